"""Sample hygiene for preference rows (`prompt`, `chosen`, `rejected`, `images`): the SFT checks, per side.

[`PreferenceRowValidator`] is the [`RowValidator`] the preference trainers hand to the shared hygiene
(`MultimodalTrainerMixin.check_samples`): a preference row is checked as its two conversations, `prompt + chosen` in
full (roles, empty turns, placeholder counts, images decoded, exact token count) and `prompt + rejected` for what
differs (its text and its token count; the images are the same and decoded once). The row's length is the longer
side's, so `max_length` drops a pair whenever either side would not fit. With `drop_invalid`, a pair whose chosen or
rejected response has no text (`empty_completion`) or whose two responses are the same text
(`identical_completions`) is dropped too. Rows in the SFT form (`messages`) are checked as before.
"""

from __future__ import annotations

from typing import Any

from ..data.validate import RowCheck, RowValidator


def _text(messages: list[dict[str, Any]]) -> str:
    parts = (message["content"] for message in messages)
    return "".join(
        part if isinstance(part, str) else part.get("text") or ""
        for content in parts
        for part in ([content] if isinstance(content, str) else content)
        if isinstance(part, str) or part.get("type") == "text"
    )


class PreferenceRowValidator(RowValidator):
    """A [`RowValidator`] that also checks preference rows (see the module docstring)."""

    def check(self, row: dict[str, Any]) -> RowCheck:
        if "prompt" not in row or "chosen" not in row:
            return super().check(row)
        prompt, chosen, rejected = list(row["prompt"]), list(row["chosen"] or []), list(row["rejected"] or [])
        result = super().check({**row, "messages": prompt + chosen})
        text_only = {key: value for key, value in row.items() if key not in ("images", "videos")}
        other = super().check({**text_only, "messages": prompt + rejected})
        seen = set(result.issues)
        for reason, detail in other.issues:  # the rejected side's own text problems (media were checked above)
            if not reason.endswith(("_count_mismatch", "_image", "_video")) and (reason, detail) not in seen:
                result.issues.append((reason, f"rejected: {detail}"))
        if result.num_tokens is not None and other.num_tokens is not None:
            difference = self._text_tokens(prompt + rejected) - self._text_tokens(prompt + chosen)
            result.num_tokens += max(difference, 0)
            result.issues = [issue for issue in result.issues if issue[0] != "over_length"]
            if self.max_length is not None and result.num_tokens > self.max_length:
                result.issues.append(
                    ("over_length", f"{result.num_tokens} tokens (longer side) > max_length {self.max_length}")
                )
        for side, messages in (("chosen", chosen), ("rejected", rejected)):
            if not _text(messages).strip():
                result.issues.append(("empty_completion", f"`{side}` has no text"))
        if _text(chosen) == _text(rejected) and _text(chosen).strip():
            result.issues.append(("identical_completions", "`chosen` and `rejected` are the same text"))
        return result

    def _text_tokens(self, messages: list[dict[str, Any]]) -> int:
        text = self.processor.apply_chat_template(messages, chat_template=self.chat_template, tokenize=False)
        return len(self.processor.tokenizer(text, add_special_tokens=False)["input_ids"])


__all__ = ["PreferenceRowValidator"]
