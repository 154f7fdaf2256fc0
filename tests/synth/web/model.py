"""The stand-in model of the web-mining tests: a scripted reply per prompt of the pipeline, computed from the
request itself (what a served model would be asked), for the loopback `ScriptedServer`.

* extraction: the question is the page text after "Problem:" up to "Solution:", the solution the rest up to the
  end of its paragraph; the question images are every image of the document between them, plus one URL the page
  does not hold (the pipeline must not download it); "**Question 1:** Not found" for a page without "Problem:";
* validity: "no" for a question with "gibberish", else "yes" with every image and the subject by keyword;
* answers: "Answer: N" with N the web solution's answer (5 for the speed question's, computed independently);
* consistency: "no" for a question with "ambiguous"; alignment: "Yes" unless the web answer is 21 (9 + 10).
"""

from __future__ import annotations

import re
from typing import Any

from tests.synth.pipeline_stand_in import last_text

HALLUCINATED = "https://made-up.invalid/not-on-the-page.png"
ANSWERS = {"right triangle": "6", "slope": "2", "average speed": "5", "7 * 8": "56", "pendulum": "3",
           "gibberish": "1", "9 + 10": "19", "tiles": "10000"}  # fmt: skip


def extraction(text: str) -> str:
    document = text.split("<document>", 1)[-1]
    match = re.search(r"Problem:(.*?)Solution:(.*?)(?:Answer: (\S+))", document, re.DOTALL)
    if not match:
        return "**Question 1:** Not found\n"
    question_part = match.group(1)
    images = re.findall(r"src='([^']+)'", question_part)
    question = re.sub(r"<image[^>]*></image>", "", question_part).strip()
    solution = f"{match.group(2).strip()} Answer: {match.group(3)}"
    bullets = "\n".join(f"* {src}" for src in [*images, HALLUCINATED])
    return (f"**Question 1:**\n{question}\n\n**Images:**\n{bullets}\n\n**Solution:**\n{solution}\n\n"
            "**Images in Solution:**\n* Not found\n")  # fmt: skip


def reply(body: dict[str, Any]) -> str:
    text = last_text(body)
    if "Web page:" in text and "<document>" in text:
        return extraction(text)
    if "QUESTION_VALID" in text:
        if "gibberish" in text:
            return "QUESTION_VALID: no\nANALYSIS: spam\nQUESTION_IMAGES: \nSOLUTION_IMAGES: \nSUBJECT: other"
        subject = "physics" if re.search(r"speed|pendulum", text) else "math"
        return (
            "QUESTION_VALID: yes\nANALYSIS: a clear exercise\nQUESTION_IMAGES: 0,1,2\nSOLUTION_IMAGES:\n"
            f"SUBJECT: {subject}"
        )
    if "CONSISTENT:" in text:
        return "CONSISTENT: no\nAGREEING: 1,2" if "ambiguous" in text else "CONSISTENT: yes\nAGREEING: 1,2,3,4"
    if "Web page answer:" in text:
        return "No\nThe web page's 21 is not 19." if "Answer: 21" in text else "Yes\nBoth reach the same result."
    if "Solve the problem step by step" in text:
        answer = next((value for key, value in ANSWERS.items() if key in text), "0")
        return f"Reading the figure and the data.\nComputing step by step.\nAnswer: {answer}"
    raise AssertionError(f"unexpected prompt: {text[:200]!r}")
