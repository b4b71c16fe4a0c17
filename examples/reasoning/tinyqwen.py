"""A tiny decoder-only transformer with Qwen3's state dict (RMSNorm, rotary
positions, grouped-query attention with per-head q/k norms, SwiGLU MLP,
untied lm_head), the arithmetic task, and safetensors I/O in a few lines.
Debian's python3-torch (CPU) and numpy only."""
import json
import os
import random
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ---- tokens: one per character, and <think> </think> as single tokens ----
PAD, BOS, EOS, THINK, END_THINK = 0, 1, 2, 3, 4
CHARS = "0123456789+=,"
VOCAB = 32
NAMES = {PAD: "<pad>", BOS: "<s>", EOS: "</s>", THINK: "<think>", END_THINK: "</think>"}


def encode(text):
    out, i = [], 0
    while i < len(text):
        if text.startswith("<think>", i):
            out.append(THINK)
            i += 7
        elif text.startswith("</think>", i):
            out.append(END_THINK)
            i += 8
        else:
            out.append(5 + CHARS.index(text[i]))
            i += 1
    return out


def decode(ids):
    return "".join(NAMES.get(t, CHARS[t - 5] if 5 <= t < 5 + len(CHARS) else "?")
                   for t in ids if t not in (PAD, BOS, EOS))


# ---- the task: two-digit sums, answered directly or after working ----

def question(a, b):
    return "%02d+%02d=" % (a, b)


def working(a, b):
    """Digit by digit, units first, with the carry: 47+38 -> 7+8=15,4+3+1=8."""
    u = a % 10 + b % 10
    return "%d+%d=%d,%d+%d+%d=%d" % (a % 10, b % 10, u, a // 10, b // 10, u // 10,
                                      a // 10 + b // 10 + u // 10)


def answer(a, b, thinking):
    return ("<think>" + working(a, b) + "</think>" if thinking else "") + str(a + b)


def pairs(n, seed):
    rng = random.Random(seed)
    return [(rng.randrange(100), rng.randrange(100)) for _ in range(n)]


# ---- the model ----

class Config:
    def __init__(self, **kw):
        self.vocab_size = kw.get("vocab_size", VOCAB)
        self.hidden_size = kw.get("hidden_size", 96)
        self.intermediate_size = kw.get("intermediate_size", 256)
        self.num_hidden_layers = kw.get("num_hidden_layers", 3)
        self.num_attention_heads = kw.get("num_attention_heads", 4)
        self.num_key_value_heads = kw.get("num_key_value_heads", 2)
        self.head_dim = kw.get("head_dim", 24)
        self.rms_norm_eps = kw.get("rms_norm_eps", 1e-6)
        self.rope_theta = kw.get("rope_theta", 10000.0)
        self.max_position_embeddings = kw.get("max_position_embeddings", 64)

    def to_json(self):
        d = dict(self.__dict__)
        d.update(architectures=["Qwen3ForCausalLM"], model_type="qwen3",
                 tie_word_embeddings=False, torch_dtype="float32", hidden_act="silu",
                 bos_token_id=BOS, eos_token_id=EOS, attention_bias=False)
        return d


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, theta):
    """Rotary positions, Qwen's half-split layout; x: (batch, heads, seq, dim)."""
    seq, dim = x.shape[-2], x.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    ang = torch.outer(torch.arange(seq, dtype=torch.float32), inv)
    cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
    x1, x2 = x[..., : dim // 2], x[..., dim // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * c.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * c.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * c.head_dim, bias=False)
        self.o_proj = nn.Linear(c.num_attention_heads * c.head_dim, c.hidden_size, bias=False)
        self.q_norm = RMSNorm(c.head_dim, c.rms_norm_eps)
        self.k_norm = RMSNorm(c.head_dim, c.rms_norm_eps)

    def forward(self, x, mask):
        c, (b, s, _) = self.c, x.shape
        q = self.q_norm(self.q_proj(x).view(b, s, -1, c.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(b, s, -1, c.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(b, s, -1, c.head_dim).transpose(1, 2)
        q, k = rope(q, c.rope_theta), rope(k, c.rope_theta)
        rep = c.num_attention_heads // c.num_key_value_heads
        k, v = k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1)
        att = (q @ k.transpose(-1, -2)) / c.head_dim ** 0.5 + mask
        y = F.softmax(att, -1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(b, s, -1))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x, mask):
        x = x + self.self_attn(self.input_layernorm(x), mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Body(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c.num_hidden_layers))
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)


class Qwen3ForCausalLM(nn.Module):
    """state_dict() names: model.embed_tokens.weight, model.layers.N.*,
    model.norm.weight, lm_head.weight, as in Hugging Face's Qwen3."""

    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = Body(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)

    def forward(self, ids):
        s = ids.shape[1]
        mask = torch.full((s, s), float("-inf")).triu(1)
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, mask)
        return self.lm_head(self.model.norm(x))


@torch.no_grad()
def generate(model, prompts, max_new):
    """Greedy decoding of a batch of prompts of equal length; returns the
    generated ids of each, up to and including EOS."""
    ids = torch.tensor(prompts)
    done = torch.zeros(len(prompts), dtype=torch.bool)
    out = [[] for _ in prompts]
    for _ in range(max_new):
        nxt = model(ids)[:, -1].argmax(-1)
        for i, t in enumerate(nxt.tolist()):
            if not done[i]:
                out[i].append(t)
        done |= nxt == EOS
        if bool(done.all()):
            break
        ids = torch.cat([ids, nxt[:, None]], 1)
    return out


# ---- Hugging Face folders: config.json and model.safetensors ----

def save_folder(model, folder):
    os.makedirs(folder, exist_ok=True)
    tensors = {k: v.detach().contiguous().numpy().astype("<f4")
               for k, v in model.state_dict().items()}
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name in sorted(tensors):
        n = tensors[name].nbytes
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(folder, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for name in sorted(tensors):
            f.write(tensors[name].tobytes())
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(model.config.to_json(), f, indent=2)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    types = {"F32": "<f4", "F16": "<f2"}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] == "BF16":
            raw = np.frombuffer(data, "<u2", int(np.prod(e["shape"])), e["data_offsets"][0])
            arr = (raw.astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(data, types[e["dtype"]], int(np.prod(e["shape"])),
                                e["data_offsets"][0]).astype(np.float32)
        out[name] = torch.from_numpy(arr.reshape(e["shape"]).copy())
    return out


def load_folder(folder):
    """A folder as mpiblend or save_folder writes it (one or more shards)."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    keys = Config().__dict__.keys()
    model = Qwen3ForCausalLM(Config(**{k: v for k, v in cfg.items() if k in keys}))
    state = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            state.update(read_safetensors(os.path.join(folder, name)))
    model.load_state_dict(state)
    return model.eval()
