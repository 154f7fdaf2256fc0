"""Preference rows (TRL vision-preference form) for the preference-forward tests: anyres images, 0-2 per row."""

from mmreason.testing import make_image


def preference_row(sizes: list[tuple[int, int]], question: str, chosen: str, rejected: str, seed: int = 0) -> dict:
    """One pair: a user turn with one image part per `(width, height)` in `sizes`, then two answers."""
    content = [{"type": "image"} for _ in sizes] + [{"type": "text", "text": question}]
    return {
        "images": [make_image(w, h, seed + i) for i, (w, h) in enumerate(sizes)],
        "prompt": [{"role": "user", "content": content}],
        "chosen": [{"role": "assistant", "content": [{"type": "text", "text": chosen}]}],
        "rejected": [{"role": "assistant", "content": [{"type": "text", "text": rejected}]}],
    }


def mixed_pairs() -> list[dict]:
    """Four pairs: a wide image (3x1 grid), two images, none, a tall image; answers of different lengths."""
    return [
        preference_row([(90, 30)], "What is shown?", "A cat on a mat.", "A dog.", seed=3),
        preference_row([(40, 40), (50, 35)], "Compare the two.", "They are the same.", "The left one, clearly.", 1),
        preference_row([], "What is 2+2?", "4", "Five, I think.", seed=0),
        preference_row([(30, 70)], "Read the value.", "Seven point five, so 7.5", "7", seed=9),
    ]
