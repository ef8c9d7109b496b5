"""Why a regular expression stays linear on customer text, read from its parsed form
(`sre_parse`, what `re` compiles) instead of timed.

Python's `re` backtracks: a pattern runs in time exponential (or polynomial) in the text when a
part of the text can be split between its quantifiers in more than one way, and it tries every
way before failing. bot/masking.py argues linearity by shape ("bounded repetitions, no nested or
overlapping quantifiers"); these rules check that shape on every pattern:

1. A repetition that can repeat (`+`, `*`, `{m,n}` with n > 1) splits the text between its
   iterations in one way only: no variable-width part of one iteration can hand a character to
   the next (`(a+)+`, `(a{1,2})*`, `(a+b?)+` can; `(?:[ ]?[A-Z0-9]){11,30}` and
   `(?:\\.[a-z]{1,63}){1,8}` cannot: a space or a dot starts each iteration); its alternatives
   never start with the same character nor match nothing both (`(a|ab)+`, `(a|a)*`, which
   `re` parses as `a(|)`); its body cannot match the empty string.
2. Two variable-width neighbours in a sequence (with only optional parts between them) do not
   meet on a common character: `\\d+\\d+`, `\\w* ?\\w*` split a run in many ways.
3. With `bounded=True` (masking's and customer_data's own rule), every repetition has an upper
   bound, so a failed attempt at a position costs a constant and a search over the whole text
   stays linear (the old e-mail pattern's `+` made each of 100,000 attempts scan to the end).

The rules are sufficient, not necessary: they may refuse a safe pattern (then it is written
another way), never accept `(a+)+$`. Characters are compared over Latin-1, Latin Extended and
the usual spaces, which is what customers type here.
"""

from __future__ import annotations

import ast
import re
import sre_compile
import sre_constants as c
import sre_parse
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UNIVERSE = "".join(chr(code) for code in range(0x20, 0x250)) + "\t\n\r\x0b\x0c\u2009\u202f\u3000"
REPEATS = (c.MAX_REPEAT, c.MIN_REPEAT)
ZERO_WIDTH = (c.AT, c.ASSERT, c.ASSERT_NOT)
CHARACTER = (c.LITERAL, c.NOT_LITERAL, c.IN, c.ANY)
# re's functions whose first argument is a pattern, and the position of their `flags`
RE_FUNCTIONS = {
    "compile": 1,
    "search": 2,
    "match": 2,
    "fullmatch": 2,
    "findall": 2,
    "finditer": 2,
    "split": 3,
    "sub": 4,
    "subn": 4,
}


@dataclass(frozen=True)
class Item:
    """One element of a sequence: its width (lo, hi) and the characters it can start and end with."""

    node: Any
    lo: int
    hi: int
    first: frozenset[str]
    last: frozenset[str]

    @property
    def variable(self) -> bool:
        return self.lo != self.hi


def problems(pattern: str | re.Pattern[str], flags: int = 0, bounded: bool = False) -> list[str]:
    """What could make the pattern backtrack more than linearly (rules 1-3); [] when nothing."""
    if isinstance(pattern, re.Pattern):
        pattern, flags = pattern.pattern, pattern.flags
    parsed = sre_parse.parse(pattern, flags)
    found: list[str] = []
    _walk(parsed, parsed.state, bounded, found)
    return found


def _walk(sequence: Any, state: Any, bounded: bool, found: list[str], cyclic: bool = False) -> None:
    items = [_item(node, state) for node in sequence.data if node[0] not in ZERO_WIDTH]
    found += _overlapping_neighbours(items, cyclic)
    for op, av in sequence.data:
        if op in REPEATS:
            _, high, body = av
            if bounded and high == c.MAXREPEAT:
                found.append(f"unbounded repetition of {_show(body)}")
            if high > 1:
                if body.getwidth()[0] == 0:
                    found.append(f"repetition of {_show(body)}, which can match nothing")
                found += _alternatives_sharing_a_start(body, state)
            _walk(body, state, bounded, found, cyclic=high > 1)
        elif op == c.SUBPATTERN:
            _walk(av[3], state, bounded, found)
        elif op == c.BRANCH:
            for alternative in av[1]:
                _walk(alternative, state, bounded, found)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            _walk(av[1], state, bounded, found)
        elif op == c.GROUPREF_EXISTS:
            for branch in av[1:]:
                if branch is not None:
                    _walk(branch, state, bounded, found)


def _overlapping_neighbours(items: list[Item], cyclic: bool) -> list[str]:
    """Rules 1 and 2: a variable-width item whose end can also be the start of the next
    variable-width item (optional items between them skipped; in a repeated body, the last
    item is followed by the first one again, itself included)."""
    found = []
    count = len(items)
    for index, item in enumerate(items):
        if not item.variable:
            continue
        for step in range(1, count + 1 if cyclic else count - index):
            following = items[(index + step) % count]
            if following.variable and item.last & following.first:
                found.append(f"{_show_node(item.node)} and {_show_node(following.node)} can share characters")
                break
            if following.lo > 0:
                break
    return found


def _alternatives_sharing_a_start(body: Any, state: Any) -> list[str]:
    found = []
    for op, av in _nodes(body):
        if op != c.BRANCH:
            continue
        starts = [_first(alternative.data, state) for alternative in av[1]]
        empty = sum(1 for alternative in av[1] if alternative.getwidth()[0] == 0)
        if empty > 1 or any(one & other for i, one in enumerate(starts) for other in starts[i + 1 :]):
            found.append(f"alternatives under a repetition start alike: {_show(body)}")
    return found


def _nodes(sequence: Any) -> Iterator[tuple[Any, Any]]:
    for op, av in sequence.data:
        yield op, av
        if op in REPEATS:
            yield from _nodes(av[2])
        elif op == c.SUBPATTERN:
            yield from _nodes(av[3])
        elif op == c.BRANCH:
            for alternative in av[1]:
                yield from _nodes(alternative)


def _item(node: Any, state: Any) -> Item:
    lo, hi = sre_parse.SubPattern(state, [node]).getwidth()
    return Item(node, lo, hi, _first([node], state), _first([node], state, reverse=True))


def _first(nodes: Iterable[Any], state: Any, reverse: bool = False) -> frozenset[str]:
    """The characters a match of these nodes (in sequence) can start with (end with: reverse)."""
    found: set[str] = set()
    sequence = list(nodes)
    for op, av in reversed(sequence) if reverse else sequence:
        if op in ZERO_WIDTH:
            continue
        if op in CHARACTER:
            found |= _alphabet(op, av, state)
            return frozenset(found)
        if op in REPEATS:
            found |= _first(av[2].data, state, reverse)
            if av[0] > 0:
                return frozenset(found)
        elif op == c.SUBPATTERN:
            found |= _first(av[3].data, state, reverse)
            if av[3].getwidth()[0] > 0:
                return frozenset(found)
        elif op == c.BRANCH:
            for alternative in av[1]:
                found |= _first(alternative.data, state, reverse)
            if min(alternative.getwidth()[0] for alternative in av[1]) > 0:
                return frozenset(found)
        else:  # a back reference or a conditional group: any character
            return frozenset(UNIVERSE)
    return frozenset(found)


def _alphabet(op: Any, av: Any, state: Any) -> frozenset[str]:
    """The characters one character node matches, asked of `re` itself (flags included)."""
    return _alphabet_of(sre_parse.SubPattern(state, [(op, av)]), state.flags)


def _alphabet_of(single: Any, flags: int) -> frozenset[str]:
    key = (repr(single.data), flags)
    if key not in _ALPHABETS:
        compiled = sre_compile.compile(single, flags)
        _ALPHABETS[key] = frozenset(ch for ch in UNIVERSE if compiled.fullmatch(ch))
    return _ALPHABETS[key]


_ALPHABETS: dict[tuple[str, int], frozenset[str]] = {}


def _show(sequence: Any) -> str:
    return repr(sequence.data)[:120]


def _show_node(node: Any) -> str:
    return repr([node])[:80]


# --------------------------------------------------------------------------- where patterns are
@dataclass(frozen=True)
class Found:
    where: str
    pattern: str
    flags: int


def literal_patterns(path: Path) -> Iterator[Found]:
    """The patterns a module writes in calls of re's functions, with their flags: string
    literals, and f-strings with each interpolated value read as one word (the project
    interpolates words: month names, `re.escape`d terms). Patterns built otherwise are read
    from the module's objects (`module_patterns`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in RE_FUNCTIONS
            and node.args
        ):
            continue
        pattern = _written(node.args[0])
        if pattern is None:
            continue
        position = RE_FUNCTIONS[node.func.attr]
        flags = node.args[position] if len(node.args) > position else None
        flags = next((k.value for k in node.keywords if k.arg == "flags"), flags)
        yield Found(f"{path}:{node.lineno}", pattern, _flags(flags))


def _written(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = [_written(value) if isinstance(value, ast.Constant) else "word" for value in node.values]
        return "".join(part or "" for part in parts)
    return None


def _flags(node: ast.expr | None) -> int:
    if node is None:
        return 0
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "re":
        return int(getattr(re, node.attr))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flags(node.left) | _flags(node.right)
    raise ValueError(f"flags not understood: {ast.unparse(node)}")


def module_patterns(module: Any) -> Iterator[Found]:
    """The compiled patterns a module holds (also inside its tuples, lists and dicts)."""
    for name, value in vars(module).items():
        for pattern in _patterns_in(value, depth=3):
            yield Found(f"{module.__name__}.{name}", pattern.pattern, pattern.flags)


def function_patterns(function: types.FunctionType, packages: tuple[str, ...] = ("bot", "actions")) -> Iterator[Found]:
    """The compiled patterns a function applies, read from the objects it reaches: the values it
    closes over and the module globals its code names, then the same for every function of
    `packages` found there. A function built at run time (a masker with the patterns it
    compiled for one customer) is read as it is, not as its source writes it."""
    seen: set[int] = set()
    pending = [function]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        code, module = current.__code__, current.__globals__
        reached = dict(zip(code.co_freevars, _cell_contents(current.__closure__ or ()), strict=True))
        reached.update((name, module[name]) for name in _names(code) if name in module)
        for name, value in reached.items():
            for pattern in _patterns_in(value, depth=3):
                yield Found(f"{current.__module__}.{current.__qualname__}: {name}", pattern.pattern, pattern.flags)
            pending.extend(f for f in _functions_in(value, depth=3) if f.__module__.split(".")[0] in packages)


def _cell_contents(cells: tuple[Any, ...]) -> Iterator[Any]:
    for cell in cells:
        try:
            yield cell.cell_contents
        except ValueError:  # a cell not filled yet
            yield None


def _names(code: types.CodeType) -> set[str]:
    """The global names a code object and the functions defined in it use."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names(constant)
    return names


def _found_in(value: Any, depth: int, wanted: Callable[[Any], bool]) -> Iterator[Any]:
    """The values `wanted` picks in `value` and in the containers it holds, `depth` levels down."""
    if wanted(value):
        yield value
    elif depth and isinstance(value, (tuple, list, frozenset, set)):
        for element in value:
            yield from _found_in(element, depth - 1, wanted)
    elif depth and isinstance(value, dict):
        for element in value.values():
            yield from _found_in(element, depth - 1, wanted)


def _functions_in(value: Any, depth: int) -> Iterator[types.FunctionType]:
    return _found_in(value, depth, lambda v: isinstance(v, types.FunctionType))


def _patterns_in(value: Any, depth: int) -> Iterator[re.Pattern[str]]:
    return _found_in(value, depth, lambda v: isinstance(v, re.Pattern) and isinstance(v.pattern, str))
