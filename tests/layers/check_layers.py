#!/usr/bin/env python3
"""The layering of engine/, checked against what CMakeLists.txt declares.

Each folder of engine/ is one floor, built as the static library vd_<folder> by vd_layer(...)
in CMakeLists.txt with the floors it may use listed after DEPS. This check fails when:
  - a file includes a header of a floor its own floor does not declare (directly),
  - the folders' includes form a cycle,
  - a .c file declares a function it does not define (a prototype: it belongs in a header),
  - a function a .c file exports is not declared in that file's own header,
  - a struct has no tag (typedef struct { ... }), so headers could not forward-declare it.
Usage: check_layers.py [SOURCE_DIR]"""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..'))
engine = os.path.join(root, 'engine')
problems = []


def declared_layers():
    text = open(os.path.join(root, 'CMakeLists.txt')).read()
    layers = {}
    for m in re.finditer(r'vd_layer\((\w+)(.*?)\)\n', text, re.S):
        deps = re.search(r'DEPS(.*)', m.group(2), re.S)
        names = deps.group(1).split() if deps else []
        layers[m.group(1)] = {d[3:] for d in names if d.startswith('vd_') and d != 'vd_flags'}
    return layers


def code_of(path):
    """The text without comments, string and character literals ('{' counts as no brace),
    lines kept."""
    text = open(path).read()
    # One pass, left to right, so that "//" or "/*" inside a string ("redis://") is a string.
    def blank(m):
        t = m.group(0)
        if t.startswith('/*'):
            return '\n' * t.count('\n')
        if t.startswith('//'):
            return ''
        return '""' if t.startswith('"') else "' '"
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])\'', blank, text,
                  flags=re.S)


def top_level_statements(code):
    """(text, line, is_definition) of each statement at brace depth 0."""
    out, depth, start, line, cur = [], 0, 0, 1, []
    paren = 0
    for i, ch in enumerate(code):
        if ch == '\n':
            line += 1
        if depth == 0:
            cur.append(ch)
        if ch == '(':
            paren += 1
        elif ch == ')':
            paren -= 1
        elif ch == '{':
            if depth == 0:
                out.append((''.join(cur[:-1]), line, True))
                cur = []
            depth += 1
        elif ch == '}':
            depth -= 1
            if depth == 0:
                cur = []
        elif ch == ';' and depth == 0 and paren == 0:
            out.append((''.join(cur[:-1]), line, False))
            cur = []
    return out


FUNC = re.compile(r'([A-Za-z_]\w*)\s*\(')


def function_name(stmt):
    s = ' '.join(l for l in stmt.split('\n') if not l.strip().startswith('#')).strip()
    if not s or s.startswith(('typedef', 'struct', 'enum', 'union')) or '=' in s.split('(')[0]:
        return None
    m = FUNC.search(s)
    if not m or not re.match(r'^[A-Za-z_][\w\s\*]*$', s[:m.start()]) or not s[:m.start()].strip():
        return None
    return m.group(1), s


def main():
    layers = declared_layers()
    folders = sorted(d for d in os.listdir(engine) if os.path.isdir(os.path.join(engine, d)))
    graph = {f: set() for f in folders}
    for folder in folders:
        layer = layers.get(folder)
        for name in sorted(os.listdir(os.path.join(engine, folder))):
            path = os.path.join(engine, folder, name)
            rel = os.path.relpath(path, root)
            if not name.endswith(('.c', '.h')):
                continue
            text = open(path).read()
            for n, l in enumerate(text.split('\n'), 1):
                m = re.match(r'\s*#\s*include\s+(["<])([^">]+)[">]', l)
                if not m:
                    continue
                inc = m.group(2)
                if '/' not in inc or inc.startswith('verdict/'):
                    continue
                if inc.startswith('.'):  # relative to the file: where does it land?
                    landed = os.path.normpath(os.path.join(engine, folder, inc))
                    if not landed.startswith(engine + os.sep):
                        continue
                    inc = os.path.relpath(landed, engine)
                target = inc.split('/')[0]
                if target not in graph or target == folder:
                    continue
                if m.group(1) == '<' or m.group(2).startswith('.'):
                    problems.append('%s:%d: include engine headers as "floor/file.h", not %s'
                                    % (rel, n, l.strip()))
                graph[folder].add(target)
                if layer is not None and target not in layer:
                    problems.append('%s:%d: includes %s, but vd_%s does not declare vd_%s'
                                    % (rel, n, inc, folder, target))
            code = code_of(path)
            for m in re.finditer(r'typedef\s+struct\s*\{', code):
                problems.append('%s:%d: struct without a tag' % (rel, code[:m.start()].count('\n') + 1))
            if not name.endswith('.c'):
                continue
            header = os.path.join(engine, folder, name[:-2] + '.h')
            header_text = code_of(header) if os.path.exists(header) else ''
            for stmt, line, is_def in top_level_statements(code):
                fn = function_name(stmt)
                if not fn:
                    continue
                fname, s = fn
                if re.match(r'(static|extern\s+"C")\b', s) or 'static ' in s.split(fname)[0]:
                    continue
                if not is_def:
                    problems.append('%s:%d: declares %s(): prototypes belong in headers'
                                    % (rel, line, fname))
                elif fname != 'main' and not re.search(r'\b%s\s*\(' % re.escape(fname), header_text):
                    problems.append('%s:%d: %s() is not declared in %s'
                                    % (rel, line, fname, os.path.relpath(header, root)))
    for folder in folders:
        if folder not in layers:
            problems.append('engine/%s: not a vd_layer(...) in CMakeLists.txt' % folder)
    # Cycles between folders (depth-first search).
    state = {}

    def visit(f, stack):
        state[f] = 1
        for g in sorted(graph[f]):
            if state.get(g) == 1:
                cycle = stack[stack.index(g):] + [g]
                problems.append('include cycle: ' + ' -> '.join(cycle))
            elif not state.get(g):
                visit(g, stack + [g])
        state[f] = 2

    for f in folders:
        if not state.get(f):
            visit(f, [f])
    for p in problems:
        print(p)
    print('layers: %d floors, %d include edges between them, %d problem(s)'
          % (len(folders), sum(len(v) for v in graph.values()), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
