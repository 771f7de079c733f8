"""A small Transformer language model (the Transformer of the PyTorch examples'
"word_language_model" program): sinusoidal positional encoding, nn.TransformerEncoder
with a causal mask from generate_square_subsequent_mask, and a linear decoder, trained on
word ids with NLLLoss, Adam and clip_grad_norm_.

Plain PyTorch. To run it on ember, change the imports' ``torch`` to ``ember``.

    python examples/pytorch/transformer_lm.py --text some.txt
"""

import argparse
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PositionalEncoding(nn.Module):
    """PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d))."""

    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Module):
    """Container module with an encoder, a transformer encoder stack and a decoder."""

    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        encoder_layers = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout)
        self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = nn.Transformer.generate_square_subsequent_mask(len(src))
        else:
            self.src_mask = None
        src = self.encoder(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


def tokenize(text):
    """Word ids of the whole text (one <eos> a line) and the vocabulary size."""
    word2idx = {}
    ids = []
    for line in text.splitlines():
        for word in line.split() + ["<eos>"]:
            ids.append(word2idx.setdefault(word, len(word2idx)))
    return torch.tensor(ids, dtype=torch.int64), len(word2idx)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    return data[:nbatch * bsz].view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    return source[i:i + seq_len], source[i + 1:i + 1 + seq_len].reshape(-1)


def main(text, emsize=64, nhead=2, nhid=128, nlayers=2, dropout=0.2, lr=1e-3, clip=0.5,
         epochs=5, batch_size=8, bptt=16, weights=None, dtype=torch.float):
    """Returns (training losses per epoch, validation losses, final state dict keys)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ids, ntokens = tokenize(text)
    split = int(len(ids) * 0.9)
    train_data = batchify(ids[:split], batch_size).to(device)
    val_data = batchify(ids[split:], 4).to(device)

    model = TransformerModel(ntokens, emsize, nhead, nhid, nlayers, dropout).to(device, dtype)
    if weights is not None:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    criterion = nn.NLLLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)

    history, validation = [], []
    for _ in range(epochs):
        model.train()
        losses = []
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i, bptt)
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output.view(-1, ntokens), targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            losses.append(loss.item())
        history.append(losses)
        model.eval()
        total = 0.0
        with torch.no_grad():
            for i in range(0, val_data.size(0) - 1, bptt):
                data, targets = get_batch(val_data, i, bptt)
                output = model(data)
                total += len(data) * criterion(output.view(-1, ntokens), targets).item()
        validation.append(total / (len(val_data) - 1))
    return history, validation, list(model.state_dict())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", required=True, help="a plain-text file")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    with open(args.text) as f:
        history, validation, _ = main(f.read(), epochs=args.epochs)
    for epoch, (losses, val) in enumerate(zip(history, validation, strict=True), 1):
        print(f"epoch {epoch}: train loss {np.mean(losses):.3f}, valid loss {val:.3f} "
              f"(ppl {math.exp(val):.1f})")
