"""Small raw corpora written in the real Hub layouts (file names, record fields, archive member paths).

`write_mammoth_vl(root)`:
    mammoth_si_10M.json                       JSON array (indented, as released)
    mammoth_ov_2M.json                        JSON array: single-image, multi-image and video rows
    single_image_data/shard_{1,2}.tar.gz      members like M4-Instruct-Data/HQ-Edit/images/83425.jpg
    multi_image_data/shard_1.tar.gz
    video_data/shard_1.tar.gz                 .mp4 members (bytes are not decoded by prepare)
plus three bad `si` records: a missing image, a corrupt image and a placeholder/image mismatch.

`write_visualwebinstruct(root)`:
    images.zip                                members under imgs/ (visualwebinstruct/, ai2d/)
    visualwebinstruct_qa.jsonl                {"image": [...], "question", "answer", "idx"}; one malformed line
    mixed_conversation.jsonl                  LLaVA conversations
    data/train-00000-of-00001.parquet         the `example` subset, images embedded
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import datasets

from mmreason.testing import make_image

QUESTION = "<image>\nWhat is the value of x in the figure? Think step by step."
ANSWER = "The angles sum to 180, so x = 180 - 50 - 60 = 70.\nAnswer: 70"


def jpeg(seed: int, width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    make_image(width + seed % 7, height + seed % 5, seed=seed).save(buffer, format="JPEG")
    return buffer.getvalue()


def _tar_gz(path: Path, members: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def _conversation(question: str, answer: str) -> list[dict[str, str]]:
    return [{"from": "human", "value": question}, {"from": "gpt", "value": answer}]


def write_mammoth_vl(root: Path, num_si: int = 30) -> dict[str, list[dict]]:
    """Write the fixture corpus; returns the records of each JSON file."""
    si_members, si_records = {}, []
    for index in range(num_si):
        source = ("M4-Instruct-Data/HQ-Edit/images", "ai2d(gpt4v)/images", "geo170k/images")[index % 3]
        path = f"{source}/{83425 + index}.jpg"
        si_members[path] = jpeg(index)
        record = {"id": f"{83425 + index}", "image": path, "conversations": _conversation(QUESTION, ANSWER)}
        if index % 5 == 4:
            record["conversations"] += _conversation("And 2x?", "2x = 140.\nAnswer: 140")
        si_records.append(record)
    si_records.append({"id": "text-1", "conversations": _conversation("What is 2 + 2?", "2 + 2 = 4.\nAnswer: 4")})
    si_records.append(
        {"id": "bad-missing", "image": "M4-Instruct-Data/none.jpg", "conversations": _conversation(QUESTION, ANSWER)}
    )
    si_members["M4-Instruct-Data/HQ-Edit/images/corrupt.jpg"] = b"\xff\xd8 not really a jpeg"
    si_records.append(
        {
            "id": "bad-corrupt",
            "image": "M4-Instruct-Data/HQ-Edit/images/corrupt.jpg",
            "conversations": _conversation(QUESTION, ANSWER),
        }
    )
    si_records.append(
        {
            "id": "bad-count",
            "image": f"{next(iter(si_members))}",
            "conversations": _conversation("<image>\n<image>\nQ", "A"),
        }
    )
    names = list(si_members)
    _tar_gz(root / "single_image_data" / "shard_1.tar.gz", {n: si_members[n] for n in names[::2]})
    _tar_gz(root / "single_image_data" / "shard_2.tar.gz", {n: si_members[n] for n in names[1::2]})

    multi_members = {f"M4-Instruct-Data/nlvr2/images/{i}.png": jpeg(100 + i) for i in range(6)}
    multi = list(multi_members)
    ov_records = [
        {"id": "ov-single", "image": names[0], "conversations": _conversation(QUESTION, ANSWER)},
        {
            "id": "ov-multi-1",
            "image": multi[:2],
            "conversations": _conversation(
                "<image>\n<image>\nWhich image has more dots?", "The first one.\nAnswer: 1"
            ),
        },
        {
            "id": "ov-multi-2",
            "image": multi[2:6],
            "conversations": _conversation(
                "Image 1: <image>\nImage 2: <image>\nImage 3: <image>\nImage 4: <image>\nSame?", "No."
            ),
        },
        {
            "id": "ov-video",
            "video": "LLaVA-Video-178K/academic/v_0001.mp4",
            "conversations": _conversation("<image>\nWhat happens in the video?", "A ball rolls.\nAnswer: it rolls"),
        },
    ]
    _tar_gz(root / "multi_image_data" / "shard_1.tar.gz", multi_members)
    _tar_gz(
        root / "video_data" / "shard_1.tar.gz",
        {"LLaVA-Video-178K/academic/v_0001.mp4": b"\x00\x00\x00\x18ftypmp42fake"},
    )

    (root / "mammoth_si_10M.json").write_text(json.dumps(si_records, indent=4))
    (root / "mammoth_ov_2M.json").write_text(json.dumps(ov_records))
    return {"si": si_records, "ov": ov_records}


def write_visualwebinstruct(root: Path) -> dict[str, list]:
    """Write the fixture corpus; returns the records of each file."""
    root.mkdir(parents=True, exist_ok=True)
    members = {f"imgs/visualwebinstruct/{i}.png": jpeg(200 + i) for i in range(6)}
    members.update({f"imgs/ai2d/images/{i}.png": jpeg(300 + i) for i in range(2)})
    with zipfile.ZipFile(root / "images.zip", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    qa = [
        {
            "image": [f"visualwebinstruct/{i}.png"],
            "question": f"Find x in figure {i}.",
            "answer": f"x = {i}. Answer: {i}",
            "idx": i,
        }
        for i in range(4)
    ]
    qa.append({"image": [], "question": "Solve 3y = 9.", "answer": "y = 3. Answer: 3", "idx": 4})
    qa.append(
        {
            "image": ["visualwebinstruct/4.png", "visualwebinstruct/5.png"],
            "question": "Compare.",
            "answer": "Same.",
            "idx": 5,
        }
    )
    lines = [json.dumps(record) for record in qa]
    lines.insert(3, '{"image": ["visualwebinstruct/9.png"], "question": "broken')
    (root / "visualwebinstruct_qa.jsonl").write_text("\n".join(lines) + "\n")
    mixed = [
        {"id": f"vwi-{i}", "image": f"visualwebinstruct/{i}.png", "conversations": _conversation(QUESTION, ANSWER)}
        for i in range(3)
    ]
    mixed.append({"id": "cot-1", "image": "ai2d/images/1.png", "conversations": _conversation(QUESTION, ANSWER)})
    (root / "mixed_conversation.jsonl").write_text("\n".join(json.dumps(record) for record in mixed) + "\n")
    example = datasets.Dataset.from_list(
        [
            {
                "image": [{"bytes": jpeg(400 + i), "path": f"{i}.png"}],
                "question": "What is shown?",
                "answer": "A chart.",
                "idx": i,
            }
            for i in range(3)
        ],
        features=datasets.Features(
            {
                "image": datasets.List(datasets.Image()),
                "question": datasets.Value("string"),
                "answer": datasets.Value("string"),
                "idx": datasets.Value("int64"),
            }
        ),
    )
    (root / "data").mkdir(exist_ok=True)
    example.to_parquet(root / "data" / "train-00000-of-00001.parquet")
    return {"visualwebinstruct": qa, "conversation": mixed}
