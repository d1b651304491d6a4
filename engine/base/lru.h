/* A recency list threaded through the entries of a hash table: each entry has `newer` and
 * `older` links, its owner `newest` and `oldest` ends. Macros, since the state store and the
 * campaign index keep different entry types in the same way. */
#ifndef VD_LRU_H
#define VD_LRU_H

/* Takes e out of owner's list. */
#define VD_LRU_UNLINK(owner, e)                                                                    \
    do {                                                                                           \
        if ((e)->newer)                                                                            \
            (e)->newer->older = (e)->older;                                                        \
        else                                                                                       \
            (owner)->newest = (e)->older;                                                          \
        if ((e)->older)                                                                            \
            (e)->older->newer = (e)->newer;                                                        \
        else                                                                                       \
            (owner)->oldest = (e)->newer;                                                          \
        (e)->newer = (e)->older = NULL;                                                            \
    } while (0)

/* Puts e at owner's newest end. */
#define VD_LRU_PUSH(owner, e)                                                                      \
    do {                                                                                           \
        (e)->older = (owner)->newest;                                                              \
        (e)->newer = NULL;                                                                         \
        if ((owner)->newest) (owner)->newest->newer = (e);                                         \
        (owner)->newest = (e);                                                                     \
        if (!(owner)->oldest) (owner)->oldest = (e);                                               \
    } while (0)

#endif
