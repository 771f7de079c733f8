"""A word-level language model, LSTM or GRU (the PyTorch examples' "word_language_model"
program): a corpus turned into word indices, an Embedding -> RNN -> Linear model with
optionally tied weights, truncated backpropagation through time with detached hidden
states, clip_grad_norm_, a hand-written SGD update, and learning-rate annealing.

Plain PyTorch. To run it on ember, change the imports' ``torch`` to ``ember``.

    python examples/pytorch/word_language_model.py --text some.txt --model LSTM
"""

import argparse
import math

import numpy as np
import torch
import torch.nn as nn


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    """Train, validation and test splits of one text, as LongTensors of word ids."""

    def __init__(self, text, valid_fraction=0.1, test_fraction=0.1):
        self.dictionary = Dictionary()
        lines = [line for line in text.splitlines() if line.strip()]
        n_valid = max(1, int(len(lines) * valid_fraction))
        n_test = max(1, int(len(lines) * test_fraction))
        splits = lines[:-n_valid - n_test], lines[-n_valid - n_test:-n_test], lines[-n_test:]
        for part in splits:  # every split's words go in the dictionary first
            for line in part:
                for word in line.split() + ["<eos>"]:
                    self.dictionary.add_word(word)
        self.train, self.valid, self.test = (self.tokenize(part) for part in splits)

    def tokenize(self, lines):
        ids = [self.dictionary.word2idx[w] for line in lines for w in line.split() + ["<eos>"]]
        return torch.tensor(ids, dtype=torch.int64)


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError("When using the tied flag, nhid must be equal to emsize")
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return torch.nn.functional.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz, device):
    """The token stream cut into bsz columns (dropping the remainder)."""
    nbatch = data.size(0) // bsz
    data = data[:nbatch * bsz]
    data = data.view(bsz, -1).t().contiguous()
    return data.to(device)


def repackage_hidden(h):
    """Hidden states detached from their history (truncated backpropagation)."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def evaluate(model, criterion, data_source, eval_batch_size, bptt):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def train_epoch(model, criterion, train_data, batch_size, bptt, lr, clip):
    model.train()
    losses = []
    hidden = model.init_hidden(batch_size)
    for i in range(0, train_data.size(0) - 1, bptt):
        data, targets = get_batch(train_data, i, bptt)
        # detach the hidden state: backpropagate through this batch only
        hidden = repackage_hidden(hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        # clip_grad_norm_ helps prevent the exploding gradient problem in RNNs
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def main(text, model_type="LSTM", emsize=200, nhid=200, nlayers=2, lr=20.0, clip=0.25,
         epochs=40, batch_size=20, bptt=35, dropout=0.2, tied=False, weights=None,
         dtype=torch.float):
    """Returns (training losses per epoch, validation losses, test loss, final lr)."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    corpus = Corpus(text)
    eval_batch_size = 10
    train_data = batchify(corpus.train, batch_size, device)
    val_data = batchify(corpus.valid, eval_batch_size, device)
    test_data = batchify(corpus.test, eval_batch_size, device)

    ntokens = len(corpus.dictionary)
    model = RNNModel(model_type, ntokens, emsize, nhid, nlayers, dropout, tied)
    model = model.to(device, dtype)
    if weights is not None:
        model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    criterion = nn.NLLLoss()

    best_val_loss = None
    history, validation = [], []
    for _ in range(epochs):
        history.append(train_epoch(model, criterion, train_data, batch_size, bptt, lr, clip))
        val_loss = evaluate(model, criterion, val_data, eval_batch_size, bptt)
        validation.append(val_loss)
        if not best_val_loss or val_loss < best_val_loss:
            best_val_loss = val_loss
        else:
            # anneal the learning rate if no improvement has been seen on validation
            lr /= 4.0
    test_loss = evaluate(model, criterion, test_data, eval_batch_size, bptt)
    return history, validation, test_loss, lr


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", required=True, help="a plain-text file, one sentence a line")
    parser.add_argument("--model", default="LSTM", choices=["LSTM", "GRU", "RNN_TANH"])
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    torch.manual_seed(1111)
    with open(args.text) as f:
        history, validation, test_loss, lr = main(f.read(), args.model, epochs=args.epochs)
    for epoch, (losses, val) in enumerate(zip(history, validation, strict=True), 1):
        print(f"epoch {epoch}: train loss {np.mean(losses):.3f}, valid loss {val:.3f}, "
              f"valid ppl {math.exp(val):.1f}")
    print(f"test loss {test_loss:.3f}, test ppl {math.exp(test_loss):.1f}")
