#!/usr/bin/env python3
"""The backtest report end to end, through vd-report-rows (the report fed from JSON lines).

Rows are generated here with hostile names among them; every figure of the JSON report is
checked against the same figures computed in Python; the HTML must be well-formed XML, balanced
HTML, self-contained and free of injected markup; the text must hold no control bytes; the same
rows must give the same bytes; memory must not grow with the rows."""
import html.parser
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROWS = os.environ.get('REPORT_ROWS') or os.path.join(
    os.environ.get('VD_BUILD_DIR', 'build'), 'bin', 'vd-report-rows')
T0 = 1767225600000
FIRST, RESERVOIR = 4, 6
HOSTILE_RULES = ['<script>alert(1)</script>', 'quote"d', 'ctl\x1b[31mred', 'line\u2028sep',
                 'r\u00e8gle_\u00e9', 'amp&amp;']
RULES = {'disposable_email': 6, 'numbered_username': 2, 'datacenter_network': 4,
         'country_mismatch': 2, 'automation_user_agent': 6, 'role_username': 3}
for i, name in enumerate(HOSTILE_RULES):
    RULES[name] = 1 + i % 3
PIPELINES = ['signup', 'login', 'mail<&>"']
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print('FAIL:', what)


def action_of(score):
    return 'block' if score >= 10 else 'challenge' if score >= 5 else 'allow'


def make_rows(n, seed):
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        fired = [r for r in RULES if rnd.random() < 0.22]
        if rnd.random() < 0.05:
            fired.append(fired[0] if fired else 'role_username')  # a rule named twice
        after = [r for r in fired if r != 'country_mismatch']
        if rnd.random() < 0.08:
            after.append('new_rule')
        sb = float(sum(RULES[r] for r in set(fired)))
        sa = float(sum(RULES.get(r, 5) for r in set(after)))
        if rnd.random() < 0.01:
            sa += 0.25
        before = {'action': action_of(sb), 'score': sb,
                  'reasons': [{'rule': r, 'stage': 's', 'score': float(RULES[r]),
                               'detail': '<i>%d</i>' % i} for r in fired]}
        if rnd.random() < 0.02:
            before = None  # the record had no decision
        row = {'id': '01K%07d' % i, 'time_ms': T0 + i * 37000 + rnd.randrange(1000),
               'pipeline': rnd.choice(PIPELINES), 'entity': 'user%d@example.com' % rnd.randrange(400),
               'before': before,
               'after': {'action': action_of(sa), 'score': sa,
                         'reasons': [{'rule': r, 'score': float(RULES.get(r, 5))} for r in after]}}
        if rnd.random() < 0.01:
            del row['time_ms']
        rows.append(row)
    return rows


def write_labels(path, rows, seed):
    rnd = random.Random(seed)
    labels = {}
    with open(path, 'w') as f:
        f.write('# labels for the backtest test\nkey,label\n')
        for row in rows:
            if rnd.random() < 0.3:
                word = rnd.choice(['bad', 'spam', 'good', 'ham', 'fraud', 'legit'])
                f.write('%s,%s\n' % (row['id'], word))
                labels[row['id']] = 1 if word in ('bad', 'spam', 'fraud') else 0
        for k in range(0, 400, 7):
            lab = rnd.choice([True, False])
            f.write(json.dumps({'entity': 'user%d@example.com' % k, 'label': lab}) + '\n')
            labels['user%d@example.com' % k] = int(lab)
    return labels


def run(args, rows_path, env=None):
    p = subprocess.run([ROWS] + args + [rows_path], capture_output=True, env=env)
    if p.returncode != 0:
        print(p.stderr.decode(errors='replace'))
    check(p.returncode == 0, 'vd-report-rows %s exits 0' % args)
    return p.stdout


def ladder_width(lo, hi, ladder, cap):
    widths = list(ladder)
    while True:
        for w in widths:
            if hi // w - lo // w + 1 <= cap:
                return w
        widths = [widths[-1] * 2]


TIME_LADDER = [1000, 10000, 60000, 300000, 900000, 3600000, 21600000, 86400000, 604800000,
               2419200000]


def expected(rows, labels):
    """The figures of every section, computed apart from the C code."""
    secs = {}

    def sec(name):
        return secs.setdefault(name, {
            'rows': 0, 'changed': 0, 'score_changed': 0, 'rules_changed': 0,
            'missing': [0, 0], 'matrix': {}, 'act_sum': {}, 'act_n': {},
            'labels': [0, 0, 0], 'by_label': [{}, {}], 'rules': {}, 'scores': [[], []],
            'times': [], 'changed_rows': []})

    for seq, row in enumerate(rows, 1):
        label = labels.get(row['id'], labels.get(row['entity'], -1))
        sides = [row['before'], row['after']]
        acts = [s['action'] if s else None for s in sides]
        rules = [sorted(set(r['rule'] for r in s['reasons'])) if s else [] for s in sides]
        for name in (None, row['pipeline']):
            s = sec(name)
            s['rows'] += 1
            changed = acts[0] != acts[1]
            s['changed'] += changed
            if changed:
                s['changed_rows'].append(seq)
            both = acts[0] is not None and acts[1] is not None
            if both:
                s['score_changed'] += abs(sides[0]['score'] - sides[1]['score']) > 1e-9
                s['rules_changed'] += rules[0] != rules[1]
            key = (acts[0], acts[1])
            s['matrix'][key] = s['matrix'].get(key, 0) + 1
            s['labels'][label + 1] += 1
            for k in range(2):
                if acts[k] is None:
                    s['missing'][k] += 1
                    continue
                sc = sides[k]['score']
                s['act_sum'][acts[k]] = s['act_sum'].get(acts[k], 0.0) + sc
                s['act_n'][acts[k]] = s['act_n'].get(acts[k], 0) + 1
                s['scores'][k].append(sc)
                if both:
                    bl = s['by_label'][k].setdefault(label, {})
                    bl[acts[k]] = bl.get(acts[k], 0) + 1
                for r in rules[k]:
                    st = s['rules'].setdefault(r, {'before': 0, 'after': 0, 'bad': [0, 0], 'good': [0, 0]})
                    st['before' if k == 0 else 'after'] += 1
                    if label == 1:
                        st['bad'][k] += 1
                    elif label == 0:
                        st['good'][k] += 1
            if 'time_ms' in row:
                s['times'].append((row['time_ms'], changed))
    return secs


def ratio(a, b):
    return None if b == 0 else a / b


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-9


def compare_section(got, exp, name, timed):
    check(got['decisions'] == exp['rows'], '%s: decisions' % name)
    for k in ('changed', 'score_changed', 'rules_changed'):
        check(got[k] == exp[k], '%s: %s %s != %s' % (name, k, got[k], exp[k]))
    check([got['missing']['before'], got['missing']['after']] == exp['missing'], '%s: missing' % name)
    trans = {(t['before'], t['after']): t['count'] for t in got['transitions']}
    check(trans == exp['matrix'], '%s: transitions %s != %s' % (name, trans, exp['matrix']))
    means = {a: exp['act_sum'][a] / exp['act_n'][a] for a in exp['act_n']}
    order = sorted(means, key=lambda a: (means[a], a))
    got_order = [a['action'] for a in got['actions'] if a['action'] is not None]
    check(got_order == order, '%s: action order %s != %s' % (name, got_order, order))
    for a in got['actions']:
        b = sum(v for (x, _), v in exp['matrix'].items() if x == a['action'])
        f = sum(v for (_, y), v in exp['matrix'].items() if y == a['action'])
        check((a['before'], a['after'], a['change']) == (b, f, f - b), '%s: totals of %s' % (name, a['action']))
    # Rules: counts, then the order (|change| desc, hits desc, name).
    got_rules = {r['rule']: r for r in got['rules']}
    check(set(got_rules) == set(exp['rules']), '%s: rule names' % name)
    for r, st in exp['rules'].items():
        g = got_rules.get(r)
        if not g:
            continue
        check((g['before'], g['after']) == (st['before'], st['after']), '%s: rule %r hits' % (name, r))
        check([g['bad']['before'], g['bad']['after']] == st['bad'], '%s: rule %r bad hits' % (name, r))
        check([g['good']['before'], g['good']['after']] == st['good'], '%s: rule %r good hits' % (name, r))
        check(close(g['relative'], ratio(st['after'] - st['before'], st['before'])), '%s: rule %r relative' % (name, r))
    want = sorted(exp['rules'], key=lambda r: (-abs(exp['rules'][r]['after'] - exp['rules'][r]['before']),
                                               -(exp['rules'][r]['after'] + exp['rules'][r]['before']),
                                               r.encode()))
    check([r['rule'] for r in got['rules']] == want, '%s: rule order' % name)
    # Labels and metrics.
    lab = got['labels']
    check([lab['unknown'], lab['good'], lab['bad']] == exp['labels'], '%s: label counts' % name)
    check(lab['order'] == order, '%s: label order' % name)
    metrics = []
    for i in range(1, len(order)):
        for at_least in ([0, 1] if i + 1 < len(order) else [0]):
            pos = set(order[i:] if at_least else [order[i]])
            row = {'prediction': order[i], 'match': 'at_least' if at_least else 'exact'}
            for k, side in enumerate(('before', 'after')):
                bad = exp['by_label'][k].get(1, {})
                good = exp['by_label'][k].get(0, {})
                tp = sum(v for a, v in bad.items() if a in pos)
                fn = sum(v for a, v in bad.items() if a not in pos)
                fp = sum(v for a, v in good.items() if a in pos)
                tn = sum(v for a, v in good.items() if a not in pos)
                row[side] = {'tp': tp, 'fp': fp, 'fn': fn, 'tn': tn, 'precision': ratio(tp, tp + fp),
                             'recall': ratio(tp, tp + fn), 'fpr': ratio(fp, fp + tn)}
            metrics.append(row)
    check(len(metrics) == len(lab['metrics']), '%s: metric rows' % name)
    for m, g in zip(metrics, lab['metrics']):
        check((m['prediction'], m['match']) == (g['prediction'], g['match']), '%s: metric names' % name)
        for side in ('before', 'after'):
            for k, v in m[side].items():
                check(close(g[side][k], v), '%s: %s %s %s: %s != %s' % (name, m['prediction'], side, k, g[side][k], v))
        for k in ('precision', 'recall', 'fpr'):
            b, a = m['before'][k], m['after'][k]
            check(close(g['change'][k], None if a is None or b is None else a - b), '%s: change %s' % (name, k))
    # Score histogram: the smallest power-of-two width in 1/1024 that fits 48 bins.
    ticks = [math.floor(s * 1024) for side in exp['scores'] for s in side]
    w = ladder_width(min(ticks), max(ticks), [1], 48)
    check(got['scores']['bin_width'] == w / 1024, '%s: score bin width' % name)
    bins = got['scores']['bins']
    check(bins[0]['from'] == (min(ticks) // w) * w / 1024, '%s: first score bin' % name)
    for k, side in enumerate(('before', 'after')):
        counts = {}
        for s in exp['scores'][k]:
            counts[math.floor(s * 1024) // w] = counts.get(math.floor(s * 1024) // w, 0) + 1
        got_counts = {round(b['from'] * 1024) // w: b[side] for b in bins if b[side]}
        check(got_counts == counts, '%s: score bins %s' % (name, side))
    # Time series on the report's axis.
    tw = got['time_series']['bucket_ms']
    lo, hi = timed
    check(tw == ladder_width(lo, hi, TIME_LADDER, 100), '%s: bucket width %d' % (name, tw))
    buckets = {b['start_ms']: (b['decisions'], b['changed']) for b in got['time_series']['buckets']}
    want_b = {}
    for t, c in exp['times']:
        start = t // tw * tw
        n, ch = want_b.get(start, (0, 0))
        want_b[start] = (n + 1, ch + c)
    check({k: v for k, v in buckets.items() if v[0]} == want_b, '%s: time buckets' % name)


def compare_samples(got, exp, name):
    s = got['samples']
    items = s['items']
    changed = exp['changed_rows']
    check(s['first'] == min(FIRST, len(changed)), '%s: first samples' % name)
    check(s['reservoir_population'] == max(0, len(changed) - FIRST), '%s: reservoir population' % name)
    check(s['reservoir'] == min(RESERVOIR, max(0, len(changed) - FIRST)), '%s: reservoir size' % name)
    seqs = [i['seq'] for i in items]
    check(seqs == sorted(seqs), '%s: samples in input order' % name)
    check(seqs[:FIRST] == changed[:FIRST], '%s: the first changed decisions' % name)
    check(set(seqs) <= set(changed), '%s: samples are changed decisions' % name)
    for i in items:
        check(i['before']['action'] != i['after']['action'], '%s: sample %d changed' % (name, i['seq']))
        check(i['pipeline'] == name, '%s: sample pipeline' % name)


class Balance(html.parser.HTMLParser):
    VOID = {'meta', 'br', 'hr', 'img', 'input', 'link'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append('</%s> closes <%s>' % (tag, self.stack[-1] if self.stack else ''))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_html(page, sections):
    text = page.decode('utf-8')
    ET.fromstring(text)  # well-formed XML, or this raises
    p = Balance()
    p.feed(text)
    p.close()
    check(not p.errors and not p.stack, 'HTML balanced: %s %s' % (p.errors[:3], p.stack))
    names = [t for t, _ in p.tags]
    for bad in ('script', 'link', 'img', 'iframe', 'object', 'embed'):
        check(bad not in names, 'no <%s> in the page' % bad)
    for tag, attrs in p.tags:
        for k, v in attrs.items():
            check(not k.startswith('on'), 'no event handler attribute %s' % k)
            if k in ('href', 'src'):
                check(v.startswith('#'), 'only local links: %s' % v)
    check('url(' not in text and '@import' not in text, 'no fetched CSS')
    check(names.count('section') == sections, 'one <section> per section')
    check(names.count('svg') >= 4 * sections - 1, 'charts in every section')
    joined = ''.join(p.text)
    for r in HOSTILE_RULES:
        shown = r.replace('\x1b', '\ufffd')
        check(shown in joined, 'rule %r shown as text' % r)
    check('\x1b' not in text, 'no escape byte in the HTML')


def check_memory(rows_path_small, rows_path_big):
    """Peak memory of the driver does not follow the number of rows."""
    env = dict(os.environ, ASAN_OPTIONS='detect_leaks=0:quarantine_size_mb=1')
    peaks = []
    for path in (rows_path_small, rows_path_big):
        p = subprocess.Popen([ROWS, '--format', 'json', path], stdout=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        check(status == 0, 'memory run exits 0')
        peaks.append(usage.ru_maxrss)  # KiB
    print('peak KiB: %d with 6,000 rows, %d with 60,000' % (peaks[0], peaks[1]))
    check(peaks[1] < peaks[0] + 40 * 1024, 'memory bounded: %s' % peaks)


def main():
    tmp = tempfile.mkdtemp(prefix='vd-report-')
    rows = make_rows(6000, 7)
    rows_path = os.path.join(tmp, 'rows.jsonl')
    with open(rows_path, 'w') as f:
        for r in rows:
            f.write(json.dumps(r) + '\n')
    labels_path = os.path.join(tmp, 'labels.csv')
    labels = write_labels(labels_path, rows, 11)
    args = ['--labels', labels_path, '--samples', str(FIRST), '--reservoir', str(RESERVOIR),
            '--before', 'recorded <old>', '--after', 'policies/']

    out = run(args + ['--format', 'json'], rows_path)
    doc = json.loads(out)
    exp = expected(rows, labels)
    times = [r['time_ms'] for r in rows if 'time_ms' in r]
    timed = (min(times), max(times))
    check(doc['rows'] == len(rows), 'rows')
    check(doc['time']['timed'] == len(times), 'timed rows')
    check(doc['before'] == 'recorded <old>', 'before name')
    compare_section(doc['overall'], exp[None], 'overall', timed)
    check([p['pipeline'] for p in doc['pipelines']] == sorted(PIPELINES), 'pipelines by name')
    for p in doc['pipelines']:
        compare_section(p, exp[p['pipeline']], p['pipeline'], timed)
        compare_samples(p, exp[p['pipeline']], p['pipeline'])
    check(run(args + ['--format', 'json'], rows_path) == out, 'JSON is deterministic')

    page = run(args + ['--format', 'html'], rows_path)
    check_html(page, 1 + len(PIPELINES))
    check(run(args + ['--format', 'html'], rows_path) == page, 'HTML is deterministic')

    text = run(args + ['--format', 'text'], rows_path).decode('utf-8')
    check(all(c == '\n' or ord(c) >= 0x20 for c in text), 'no control characters in text')
    check('\\x1b[31m' in text, 'escape shown as \\x1b in text')
    for p in PIPELINES:
        check(('=== %s: ' % p) in text, 'text section %s' % p)
    check('=== all pipelines: 6,000 decisions ===' in text, 'text overall section')

    # A bad labels file stops with FILE:LINE.
    bad = os.path.join(tmp, 'bad.csv')
    with open(bad, 'w') as f:
        f.write('a,bad\nb,perhaps\n')
    p = subprocess.run([ROWS, '--labels', bad, rows_path], capture_output=True)
    check(p.returncode == 1 and (bad + ':2: unknown label "perhaps"').encode() in p.stderr,
          'labels error names FILE:LINE: %r' % p.stderr)

    big = os.path.join(tmp, 'big.jsonl')
    with open(big, 'w') as f:
        for k in range(10):
            for r in make_rows(6000, 100 + k):
                f.write(json.dumps(r) + '\n')
    check_memory(rows_path, big)

    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    print('%d failure(s)' % len(failures))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
