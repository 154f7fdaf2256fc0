"""Answer matchers shared by the scorers and the synthesis pipelines: the Levenshtein distance MathVista's official
`normalize_extracted_answer` snaps free-text answers to the closest choice with, and the `math-verify` check of the
`math_verify` backends (MathVista, MathVerse, MMPR's correctness pairs)."""

from __future__ import annotations

from collections.abc import Callable


def levenshtein(a: str, b: str) -> int:
    """Edit distance (unit-cost insertions, deletions, substitutions over code points), as `Levenshtein.distance`:
    Myers' bit-parallel algorithm (Hyyrö's global-distance form), one step per character of the longer string."""
    if len(a) > len(b):
        a, b = b, a
    if not a:
        return len(b)
    peq: dict[str, int] = {}
    for index, char in enumerate(a):
        peq[char] = peq.get(char, 0) | 1 << index
    mask, last = (1 << len(a)) - 1, 1 << (len(a) - 1)
    pv, mv, score = mask, 0, len(a)
    for char in b:
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & mask)
        mh = pv & xh
        score += 1 if ph & last else -1 if mh & last else 0
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = mh | (~(xv | ph) & mask)
        mv = ph & xv
    return score


def load_math_verify() -> Callable[[str, str], bool]:
    """`check(gold, pred)` with `math_verify.verify(parse(gold), parse(pred))` (imported lazily; signal timeouts,
    so call it from the main thread)."""
    try:
        from math_verify import parse, verify
    except ImportError as error:
        raise ImportError("backend='math_verify' needs math-verify: pip install 'mmreason[math]'") from error

    def wrap(text: str) -> str:
        return text if "$" in text else f"${text}$"

    def check(gold: str, pred: str) -> bool:
        try:
            return bool(verify(parse(wrap(gold)), parse(wrap(pred))))
        except Exception:  # math-verify raises on odd input; treat as no match
            return False

    return check


__all__ = ["levenshtein", "load_math_verify"]
