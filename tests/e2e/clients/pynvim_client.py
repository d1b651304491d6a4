"""A Verdict client on the msgpack-RPC session layer of Debian's python3-pynvim
(pynvim.msgpack_rpc: its own request/response matching over asyncio, python3-msgpack below),
a general msgpack-RPC client that predates str/bin and sends method names as bin.
Usage: pynvim_client.py SOCKET IP
Prints "ok CHECK" for each check that passed and the decoded decision as "decision JSON";
test_interop.py compares that decision with the one its own client gets. Exits 1 at the
first failed check."""

import json
import re
import sys

from pynvim.msgpack_rpc import AsyncSession, EventLoop, MsgpackStream, Session

SOCKET_PATH, IP = sys.argv[1:3]
BAD = {"ip": IP, "email": "x@mailinator.com", "username": "bob1234"}
GOOD = {"ip": IP, "email": "jane.doe@gmail.com", "username": "janedoe",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
        "form_ms": 6000}


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(error)
        self.error = error


def check(name, ok, detail=None):
    if not ok:
        sys.exit("FAIL %s: %r" % (name, detail))


def decision_shape(r):
    """The decide result as docs/protocol.md describes it."""
    return (isinstance(r, dict) and isinstance(r["action"], str)
            and isinstance(r["score"], float)
            and all(isinstance(x["rule"], str) and isinstance(x["stage"], str)
                    and isinstance(x["score"], float) and isinstance(x.get("detail", ""), str)
                    for x in r["reasons"])
            and all(isinstance(t, str) for t in r["tags"]) and r["pipeline"] == "signup"
            and re.fullmatch("[0-9a-f]{16}", r["policy"]) is not None
            and isinstance(r["elapsed_us"], int) and r["elapsed_us"] >= 0
            and isinstance(r["features"], dict) and isinstance(r["faults"], list))


def rpc_error(err, code, *needles):
    return (isinstance(err, dict) and sorted(err) == ["code", "message"]
            and err["code"] == code and isinstance(err["message"], str)
            and all(n in err["message"] for n in needles))


def rules(result):
    return [x["rule"] for x in result["reasons"]]


def call_error(session, method, *params):
    try:
        res = session.request(method, *params)
    except RpcError as e:
        return e.error
    return ("no error", res)


def main():
    # What pynvim.msgpack_rpc.socket_session builds, kept in parts: the async layer pipelines.
    async_session = AsyncSession(MsgpackStream(EventLoop("socket", SOCKET_PATH)))
    session = Session(async_session)
    session.error_wrapper = RpcError  # how the session turns an error reply into an exception

    # An Nvim client's first message: a notification whose method name is bin.
    session.request(b"nvim_set_client_info", "verdict-test", {}, "remote", {}, {}, async_=True)

    check("ping", session.request("ping") == "pong")
    print("ok ping")

    decision = session.request("decide", "signup", BAD)
    check("decide", decision_shape(decision) and decision["action"] == "block"
          and "disposable_email" in rules(decision), decision)
    print("ok decide")

    res = session.request(b"decide", b"signup", {k.encode(): v.encode() for k, v in BAD.items()},
                          {b"explain": True})
    check("bin", decision_shape(res) and rules(res) == rules(decision)
          and res["action"] == decision["action"] and isinstance(res["trace"], list), res)
    check("bin", session.request(b"ping") == "pong")
    print("ok bin")

    # Five requests written before any reply is read; the library numbers them and hands each
    # reply to its request's callback by msgid.
    sent = [("ping", []), ("decide", ["signup", GOOD]), ("decide", ["signup", BAD]),
            ("pipelines", []), ("no_such_method", [])]
    got = {}

    def on_reply(i):
        def cb(err, res):
            got[i] = (err, res)
            if len(got) == len(sent):
                async_session.stop()
        return cb

    for i, (method, params) in enumerate(sent):
        async_session.request(method, params, on_reply(i))
    async_session.run(lambda *a: check("pipelined", False, a), lambda *a: None)
    check("pipelined", got[0] == (None, "pong"), got[0])
    check("pipelined", got[1][0] is None and got[1][1]["action"] == "allow", got[1])
    check("pipelined", got[2][0] is None and got[2][1]["action"] == "block", got[2])
    check("pipelined", got[3][0] is None and any(p["name"] == "signup" for p in got[3][1]), got[3])
    check("pipelined", rpc_error(got[4][0], "unknown_method") and got[4][1] is None, got[4])
    print("ok pipelined")

    before = session.request("stats")["notifications"]
    session.request("decide", "signup", BAD, async_=True)
    session.request(b"client_info", {b"name": b"pynvim"}, async_=True)
    after = session.request("stats")["notifications"]
    check("notification", after >= before + 2, (before, after))
    print("ok notification")

    err = call_error(session, "decidee", "signup", BAD)
    check("unknown_method", rpc_error(err, "unknown_method", "decidee", "decide"), err)
    print("ok unknown_method")

    # Bytes that are not UTF-8 come back as the text Python's "replace" makes of them.
    name = b"verdict\xe2\x82 \xf0\x9f\x98 \xff"
    err = call_error(session, name)
    check("repair", rpc_error(err, "unknown_method", "'%s'" % name.decode("utf-8", "replace")), err)
    print("ok repair")

    for params in ([42, {}], ["signup"], ["signup", [1, 2]], ["signup", {}, {"colour": "red"}]):
        err = call_error(session, "decide", *params)
        check("bad_params", rpc_error(err, "bad_request"), (params, err))
    print("ok bad_params")

    err = call_error(session, "decide", "nope", BAD)
    check("unknown_pipeline", rpc_error(err, "unknown_pipeline", "nope", "signup"), err)
    check("unknown_pipeline", session.request("ping") == "pong", "the connection is still usable")
    print("ok unknown_pipeline")

    session.close()
    print("decision " + json.dumps(decision))


if __name__ == "__main__":
    main()
