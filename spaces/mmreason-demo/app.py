"""mmreason's demo Space: image + text chat with a reasoning model (MAmmoTH-VL-style), answers streamed, the steps
in a collapsible "Reasoning" section and the final answer apart.

The model: `$MMREASON_MODEL` (a Hub id or folder; any checkpoint mmreason loads, LLaVA-NeXT releases such as
MAmmoTH-VL/MAmmoTH-VL-8B included), else the model `mmreason quickstart` trained in this folder, else a random tiny
model (offline). On ZeroGPU the chat function runs under `spaces.GPU`; elsewhere it runs on the CPU or GPU at hand.

    pip install "mmreason[space]"  &&  python app.py          # http://127.0.0.1:7860
"""

import os

from mmreason.serve.app import build_demo

demo = build_demo(title="mmreason: multimodal reasoning")

if __name__ == "__main__":
    demo.queue(default_concurrency_limit=int(os.environ.get("MMREASON_CONCURRENCY", "1")))
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
