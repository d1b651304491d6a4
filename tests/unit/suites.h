/* Every unit suite, once: the runner's table, the suites' declarations and the CTest entries
 * (tests/CMakeLists.txt reads the X(...) lines) are all made from this list. */
#ifndef VD_TEST_SUITES_H
#define VD_TEST_SUITES_H

#define VD_UNIT_SUITES(X)                                                                          \
    X(frame)                                                                                       \
    X(rpc)                                                                                         \
    X(arena)                                                                                       \
    X(ipaddr)                                                                                      \
    X(policy)                                                                                      \
    X(rules)                                                                                       \
    X(sandbox)                                                                                     \
    X(store)                                                                                       \
    X(profile)                                                                                     \
    X(anomaly)                                                                                     \
    X(campaign)                                                                                    \
    X(snapshot)                                                                                    \
    X(lists)                                                                                       \
    X(executor)                                                                                    \
    X(dlog)                                                                                        \
    X(report)                                                                                      \
    X(labels)                                                                                      \
    X(stats)                                                                                       \
    X(lint)                                                                                        \
    X(schema)                                                                                      \
    X(ptest)

#endif
