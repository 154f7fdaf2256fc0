"""Bounded arithmetic for the MATH-Vision scorer: a guarded evaluator of Python arithmetic text and the optional
`latex2sympy2` backend (``pip install "mmreason[latex]"``) that MATH-V's official `is_equal` relies on.

MATH-V's official code computes ``round(eval(str(latex2sympy(text))), 2)``. Here `latex2sympy` is called on at
most `MAX_LATEX_CHARS` characters and its printed result is evaluated by `arith_eval`, which walks the Python AST
(numbers, `+ - * / // % **`, unary signs, names and functions of the `math` module, exactly what `eval` in the
official module's namespace resolves them to) with size guards instead of `eval`: a power, product or factorial whose
result would be huge raises `OverBound` instead of running for hours (``2**(2**40)``).
"""

from __future__ import annotations

import ast
import math
import operator
from functools import lru_cache
from typing import Any

MAX_LATEX_CHARS = 100
MAX_INT_BITS = 1 << 20
MAX_FACTORIAL = 5000
MAX_NODES = 2000


class OverBound(Exception):
    """An expression whose evaluation would exceed the size/time bounds (scored as a miss, flagged)."""


_NAMES: dict[str, Any] = {name: getattr(math, name) for name in dir(math) if not name.startswith("_")}
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_BIG_ARGS = {"factorial", "comb", "perm", "lcm", "prod"}


def _bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _binary(op: type, left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        if op is ast.Pow and right > 0 and abs(left) > 1 and right * _bits(left) > MAX_INT_BITS:
            raise OverBound("power too large")
        if op is ast.Mult and _bits(left) + _bits(right) > MAX_INT_BITS:
            raise OverBound("product too large")
    return _BINARY[op](left, right)


def _call(name: str, args: list[Any]) -> Any:
    if name in _BIG_ARGS and any(isinstance(a, (int, float)) and abs(a) > MAX_FACTORIAL for a in args):
        raise OverBound(f"{name} argument too large")
    if name in {"pow", "ldexp"} and len(args) == 2 and isinstance(args[1], int) and abs(args[1]) > MAX_INT_BITS:
        raise OverBound(f"{name} exponent too large")
    return _NAMES[name](*args)


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex)):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _binary(type(node.op), _eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _NAMES and not node.keywords:
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise TypeError("starred argument")
        return _call(node.func.id, [_eval(arg) for arg in node.args])
    raise NameError(f"not arithmetic: {ast.dump(node)[:60]}")


def arith_eval(source: str) -> Any:
    """Value of Python arithmetic text as `eval` would compute it with `from math import *` in scope.

    Raises what `eval` would raise for ordinary failures (`SyntaxError`, `NameError`, `ZeroDivisionError`,
    `OverflowError`, `ValueError`, `TypeError`), and `OverBound` for anything too large to compute quickly."""
    if len(source) > 4 * MAX_LATEX_CHARS:
        raise OverBound("expression too long")
    tree = ast.parse(source.strip(), mode="eval")
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise OverBound("expression too large")
    return _eval(tree)


@lru_cache(maxsize=1)
def latex2sympy_available() -> bool:
    """Whether the `latex2sympy2` extra is installed and works (it needs `antlr4-python3-runtime==4.7.2`)."""
    try:
        from latex2sympy2 import latex2sympy

        str(latex2sympy("1+1"))
        return True
    except Exception:
        return False


@lru_cache(maxsize=1 << 14)
def latex2sympy_text(text: str) -> str:
    """`str(latex2sympy(text))` (raises whatever latex2sympy raises; `OverBound` past `MAX_LATEX_CHARS`)."""
    if len(text) > MAX_LATEX_CHARS:
        raise OverBound("answer too long for latex2sympy")
    from latex2sympy2 import latex2sympy

    try:
        return str(latex2sympy(text))
    except RecursionError as error:
        raise OverBound("latex2sympy recursion") from error


__all__ = ["MAX_LATEX_CHARS", "OverBound", "arith_eval", "latex2sympy_available", "latex2sympy_text"]
