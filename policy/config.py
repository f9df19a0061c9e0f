"""Settings of policy sampling (`hitl generate`): every field is a flag, and every value is stored with each response.

    hitl generate --model default --prompts all --n 2 --campaign demo --temperature 0.8 --max-new-tokens 64

Defaults live here; `hitl generate --config configs/cpu.yaml` may override them, and flags override YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hitl.errors import InvalidInput

BACKENDS = ("auto", "hf", "vllm")
LOOPS = ("hitl", "generate")
DTYPES = ("auto", "float32", "bfloat16", "float16")


@dataclass
class GenerationSettings:
    """How responses are sampled from a policy."""

    n: int = field(default=2, metadata={"help": "Samples per prompt."})
    temperature: float = field(default=0.8, metadata={"help": "Sampling temperature; 0 means greedy decoding."})
    top_p: float = field(
        default=0.95, metadata={"help": "Nucleus sampling: keep the smallest token set of this mass."}
    )
    max_new_tokens: int = field(default=128, metadata={"help": "Longest response, in tokens (stops earlier at EOS)."})
    seed: int = field(
        default=0, metadata={"help": "Random seed: the same seed, prompts and settings give the same text."}
    )
    batch_size: int = field(default=32, metadata={"help": "Sequences generated together (prompts x samples)."})
    max_prompt_tokens: int = field(
        default=0,
        metadata={
            "help": "Longest prompt in tokens; longer ones keep their end. 0: the context minus max_new_tokens."
        },
    )
    dtype: str = field(
        default="auto",
        metadata={
            "help": f"Weights dtype: one of {', '.join(DTYPES)}; auto is bfloat16 where it runs natively (GPU, "
            "CPU with AMX or AVX-512 bf16), else float32."
        },
    )
    threads: int = field(default=0, metadata={"help": "torch CPU threads; 0: the cores not busy with other work."})
    backend: str = field(
        default="auto", metadata={"help": "auto (vLLM when installed and a GPU is present, else hf), hf or vllm."}
    )
    loop: str = field(
        default="hitl",
        metadata={"help": "hf backend's decode loop: hitl (fast exact top-p, see policy/decode.py) or generate."},
    )
    tensor_parallel_size: int = field(default=1, metadata={"help": "vLLM backend: GPUs one model is split across."})
    gpu_memory_utilization: float = field(
        default=0.9, metadata={"help": "vLLM backend: share of each GPU's memory for weights and the KV cache."}
    )
    max_model_len: int = field(
        default=0, metadata={"help": "vLLM backend: longest prompt + answer in tokens; 0: the model's context."}
    )

    def validate(self) -> None:
        if self.n < 1:
            raise InvalidInput(f"--n must be at least 1, not {self.n}")
        if self.temperature < 0:
            raise InvalidInput(f"--temperature must be 0 (greedy) or more, not {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise InvalidInput(f"--top-p must be in (0, 1], not {self.top_p}")
        if self.max_new_tokens < 1:
            raise InvalidInput(f"--max-new-tokens must be at least 1, not {self.max_new_tokens}")
        if self.batch_size < 1:
            raise InvalidInput(f"--batch-size must be at least 1, not {self.batch_size}")
        if self.max_prompt_tokens < 0:
            raise InvalidInput(f"--max-prompt-tokens must be 0 (automatic) or more, not {self.max_prompt_tokens}")
        if self.dtype not in DTYPES:
            raise InvalidInput(f"--dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")
        if self.threads < 0:
            raise InvalidInput(f"--threads must be 0 (automatic) or more, not {self.threads}")
        if self.backend not in BACKENDS:
            raise InvalidInput(f"--backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.tensor_parallel_size < 1:
            raise InvalidInput(f"--tensor-parallel-size must be at least 1, not {self.tensor_parallel_size}")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise InvalidInput(f"--gpu-memory-utilization must be in (0, 1], not {self.gpu_memory_utilization}")
        if self.max_model_len < 0:
            raise InvalidInput(f"--max-model-len must be 0 (the model's) or more, not {self.max_model_len}")
        if self.loop not in LOOPS:
            raise InvalidInput(f"--loop must be one of {', '.join(LOOPS)}, not {self.loop!r}")

    def sampling_record(self) -> dict:
        """What is stored with each response, so any response can be reproduced or filtered by how it was made."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_new_tokens": self.max_new_tokens,
            "seed": self.seed,
            "n": self.n,
            "do_sample": self.temperature > 0,
            "dtype": self.dtype,
        }
