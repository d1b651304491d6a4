"""python3 -m verdict_train COMMAND ...

  textclf DATA_DIR OUT.bin [--c C] [--split time|random]
      extract hashed tokens from the corpus, train the logistic regression, write the model
  gbdt DATA_DIR OUT.json [--split time|random]
      train the mail pipeline's gbdt on message statistics (verdict_train/stats.py)
  eval SOCKET DATA_DIR [--split time|random]
      replay the test split through a running verdictd's mail pipeline and print the figures
  eval-all VERDICTD POLICIES DATA_DIR
      start verdictd and report the time-shifted split (shipped models), then the random
      split (secondary) with a text classifier trained on that split
  backtest VERDICTD VERDICT POLICIES DATA_DIR
      the worked backtests of docs/backtesting.md: the mail junk threshold on the logged test
      split, the signup burst bound on a generated day
"""

import argparse
import datetime
import sys
import time

from . import corpus, features, textclf

TEXTCLF_C = 3.0  # inverse L2 strength; chosen on the time-shifted split, see docs


def cmd_textclf(args):
    train, test = (corpus.time_shifted if args.split == "time" else corpus.random_split)(args.data)
    t0 = time.time()
    buckets = [features.message_buckets(corpus.read(p)) for p, _ in train]
    bias, weights = textclf.train(buckets, [label for _, label in train], args.c)
    meta = {"trainer": "verdict_train.textclf", "c": args.c, "split": args.split,
            "train_messages": len(train), "bucket_bits": features.BUCKET_BITS,
            "trained": datetime.date.today().isoformat()}
    textclf.save(args.out, bias, weights, meta)
    print("textclf: %d messages, %d weights, %.1f s -> %s" % (len(train), len(weights),
                                                             time.time() - t0, args.out))


def cmd_gbdt(args):
    from . import gbdt
    train, _ = (corpus.time_shifted if args.split == "time" else corpus.random_split)(args.data)
    t0 = time.time()
    gbdt.train_stats_model(train, args.out)
    print("gbdt: %d messages, %.1f s -> %s" % (len(train), time.time() - t0, args.out))


def cmd_eval(args):
    from . import evaluate
    reports, info = evaluate.run(args.socket, args.data, args.split)
    info["split"] = "time-shifted" if args.split == "time" else "random (secondary)"
    evaluate.print_report(reports, info)


def cmd_eval_all(args):
    from . import evaluate
    evaluate.run_all(args.verdictd, args.policies, args.data)


def cmd_backtest(args):
    from . import backtest
    backtest.run_all(args.verdictd, args.verdict, args.policies, args.data)


def main(argv=None):
    p = argparse.ArgumentParser(prog="verdict_train")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("textclf", help="train the text classifier")
    t.add_argument("data")
    t.add_argument("out")
    t.add_argument("--c", type=float, default=TEXTCLF_C)
    t.add_argument("--split", choices=("time", "random"), default="time")
    g = sub.add_parser("gbdt", help="train the gbdt on message statistics")
    g.add_argument("data")
    g.add_argument("out")
    g.add_argument("--split", choices=("time", "random"), default="time")
    e = sub.add_parser("eval", help="replay the test split through verdictd")
    e.add_argument("socket")
    e.add_argument("data")
    e.add_argument("--split", choices=("time", "random"), default="time")
    a = sub.add_parser("eval-all", help="time-shifted and random-split evaluations")
    a.add_argument("verdictd")
    a.add_argument("policies")
    a.add_argument("data")
    b = sub.add_parser("backtest", help="the worked backtests of docs/backtesting.md")
    b.add_argument("verdictd")
    b.add_argument("verdict")
    b.add_argument("policies")
    b.add_argument("data")
    args = p.parse_args(argv)
    {"textclf": cmd_textclf, "gbdt": cmd_gbdt, "eval": cmd_eval,
     "eval-all": cmd_eval_all, "backtest": cmd_backtest}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
