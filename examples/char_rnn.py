"""A character-level language model: an LSTM learns to write like Shakespeare's sonnets.

The model reads text one character at a time and predicts the next one,
p(c_{t+1} | c_1 .. c_t) = softmax(W h_t + b), where h_t is an LSTM's state after an
embedding of c_t (Karpathy, 2015, "The Unreasonable Effectiveness of Recurrent Neural
Networks"). It is trained on a dozen of Shakespeare's sonnets (1609, public domain,
shipped below) with cross-entropy, by truncated backpropagation through time: each batch
of 32 windows of 100 characters is cut into chunks of 25 steps, the state is carried
from chunk to chunk, and gradients flow back at most 25 steps (``Trainer(tbptt_steps=25)``).

Every few epochs it prints the loss (in bits per character: log2 of the number of equally
likely choices it is left with) on the training sonnets and on one held-out sonnet, and a
sample drawn one character at a time from the model's own predictions (temperature 0.8):
you can watch spelling, words, line breaks and metre appear. With under 7,000 characters
to learn from, the model soon knows the training sonnets by heart (a fraction of a bit per
character), while its loss on the unseen sonnet bottoms out near 3 bits within a few
epochs and then rises: memorising is not generalising (``--dropout 0.5`` slows the
memorising, but the text is too small to generalise much better).

    python examples/char_rnn.py                       # about a minute on 2 cores
    python examples/char_rnn.py --epochs 30 --hidden 128 --dropout 0.3
"""

from __future__ import annotations

import argparse
import math
import os
import time

# Recurrent steps multiply small matrices; one BLAS thread avoids thread hand-offs that
# cost more than they save, and stalls when the cores are shared (override it if you like).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import ember as em  # noqa: E402
from ember import nn  # noqa: E402
from ember.nn.layers.recurrent import LSTM  # noqa: E402

SONNETS = """\
From fairest creatures we desire increase,
That thereby beauty's rose might never die,
But as the riper should by time decease,
His tender heir might bear his memory:
But thou, contracted to thine own bright eyes,
Feed'st thy light's flame with self-substantial fuel,
Making a famine where abundance lies,
Thyself thy foe, to thy sweet self too cruel.
Thou that art now the world's fresh ornament
And only herald to the gaudy spring,
Within thine own bud buriest thy content
And, tender churl, makest waste in niggarding.
Pity the world, or else this glutton be,
To eat the world's due, by the grave and thee.

When forty winters shall besiege thy brow,
And dig deep trenches in thy beauty's field,
Thy youth's proud livery, so gazed on now,
Will be a tatter'd weed, of small worth held:
Then being ask'd where all thy beauty lies,
Where all the treasure of thy lusty days,
To say, within thine own deep-sunken eyes,
Were an all-eating shame and thriftless praise.
How much more praise deserved thy beauty's use,
If thou couldst answer 'This fair child of mine
Shall sum my count and make my old excuse,'
Proving his beauty by succession thine!
This were to be new made when thou art old,
And see thy blood warm when thou feel'st it cold.

When I do count the clock that tells the time,
And see the brave day sunk in hideous night;
When I behold the violet past prime,
And sable curls all silver'd o'er with white;
When lofty trees I see barren of leaves
Which erst from heat did canopy the herd,
And summer's green all girded up in sheaves
Borne on the bier with white and bristly beard,
Then of thy beauty do I question make,
That thou among the wastes of time must go,
Since sweets and beauties do themselves forsake
And die as fast as they see others grow;
And nothing 'gainst Time's scythe can make defence
Save breed, to brave him when he takes thee hence.

Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall Death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.

When, in disgrace with fortune and men's eyes,
I all alone beweep my outcast state,
And trouble deaf heaven with my bootless cries,
And look upon myself and curse my fate,
Wishing me like to one more rich in hope,
Featured like him, like him with friends possess'd,
Desiring this man's art and that man's scope,
With what I most enjoy contented least;
Yet in these thoughts myself almost despising,
Haply I think on thee, and then my state,
Like to the lark at break of day arising
From sullen earth, sings hymns at heaven's gate;
For thy sweet love remember'd such wealth brings
That then I scorn to change my state with kings.

When to the sessions of sweet silent thought
I summon up remembrance of things past,
I sigh the lack of many a thing I sought,
And with old woes new wail my dear time's waste:
Then can I drown an eye, unused to flow,
For precious friends hid in death's dateless night,
And weep afresh love's long since cancell'd woe,
And moan the expense of many a vanish'd sight:
Then can I grieve at grievances foregone,
And heavily from woe to woe tell o'er
The sad account of fore-bemoaned moan,
Which I new pay as if not paid before.
But if the while I think on thee, dear friend,
All losses are restored and sorrows end.

Not marble, nor the gilded monuments
Of princes, shall outlive this powerful rhyme;
But you shall shine more bright in these contents
Than unswept stone besmear'd with sluttish time.
When wasteful war shall statues overturn,
And broils root out the work of masonry,
Nor Mars his sword nor war's quick fire shall burn
The living record of your memory.
'Gainst death and all-oblivious enmity
Shall you pace forth; your praise shall still find room
Even in the eyes of all posterity
That wear this world out to the ending doom.
So, till the judgment that yourself arise,
You live in this, and dwell in lovers' eyes.

Like as the waves make towards the pebbled shore,
So do our minutes hasten to their end;
Each changing place with that which goes before,
In sequent toil all forwards do contend.
Nativity, once in the main of light,
Crawls to maturity, wherewith being crown'd,
Crooked eclipses 'gainst his glory fight,
And Time that gave doth now his gift confound.
Time doth transfix the flourish set on youth
And delves the parallels in beauty's brow,
Feeds on the rarities of nature's truth,
And nothing stands but for his scythe to mow:
And yet to times in hope my verse shall stand,
Praising thy worth, despite his cruel hand.

That time of year thou mayst in me behold
When yellow leaves, or none, or few, do hang
Upon those boughs which shake against the cold,
Bare ruin'd choirs, where late the sweet birds sang.
In me thou see'st the twilight of such day
As after sunset fadeth in the west,
Which by and by black night doth take away,
Death's second self, that seals up all in rest.
In me thou see'st the glowing of such fire
That on the ashes of his youth doth lie,
As the death-bed whereon it must expire,
Consumed with that which it was nourish'd by.
This thou perceivest, which makes thy love more strong,
To love that well which thou must leave ere long.

To me, fair friend, you never can be old,
For as you were when first your eye I eyed,
Such seems your beauty still. Three winters cold
Have from the forests shook three summers' pride,
Three beauteous springs to yellow autumn turn'd
In process of the seasons have I seen,
Three April perfumes in three hot Junes burn'd,
Since first I saw you fresh, which yet are green.
Ah! yet doth beauty, like a dial-hand,
Steal from his figure and no pace perceived;
So your sweet hue, which methinks still doth stand,
Hath motion and mine eye may be deceived:
For fear of which, hear this, thou age unbred;
Ere you were born was beauty's summer dead.

Let me not to the marriage of true minds
Admit impediments. Love is not love
Which alters when it alteration finds,
Or bends with the remover to remove:
O no! it is an ever-fixed mark
That looks on tempests and is never shaken;
It is the star to every wandering bark,
Whose worth's unknown, although his height be taken.
Love's not Time's fool, though rosy lips and cheeks
Within his bending sickle's compass come;
Love alters not with his brief hours and weeks,
But bears it out even to the edge of doom.
If this be error and upon me proved,
I never writ, nor no man ever loved.

My mistress' eyes are nothing like the sun;
Coral is far more red than her lips' red;
If snow be white, why then her breasts are dun;
If hairs be wires, black wires grow on her head.
I have seen roses damask'd, red and white,
But no such roses see I in her cheeks;
And in some perfumes is there more delight
Than in the breath that from my mistress reeks.
I love to hear her speak, yet well I know
That music hath a far more pleasing sound;
I grant I never saw a goddess go;
My mistress, when she walks, treads on the ground:
And yet, by heaven, I think my love as rare
As any she belied with false compare.
"""


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: logits for the next character at every step."""

    def __init__(self, vocabulary: int, hidden: int, embedding: int = 32,
                 dropout: float = 0.0) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, embedding)
        self.lstm = LSTM(embedding, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, ids: em.Tensor, state=None):
        """ids (N, T) -> (logits (N, T, vocabulary), (h, c)); ``state`` carries over."""
        output, state = self.lstm(self.embed(ids), state)
        return self.head(self.drop(output)), state


class Windows:
    """``batches`` batches of random windows (inputs, next characters), fresh each epoch."""

    def __init__(self, ids: np.ndarray, batches: int, batch: int, length: int) -> None:
        self.ids, self.batches, self.batch, self.length = ids, batches, batch, length

    def __len__(self) -> int:
        return self.batches

    def __iter__(self):
        rng = em.random.generator()
        for _ in range(self.batches):
            starts = rng.integers(0, len(self.ids) - self.length, self.batch)
            windows = self.ids[starts[:, None] + np.arange(self.length + 1)]
            yield em.tensor(windows[:, :-1]), em.tensor(windows[:, 1:])


def held_out_batch(ids: np.ndarray, length: int) -> list:
    """Every window of ``length`` characters of a short text, as one batch."""
    starts = np.arange(0, len(ids) - length, length // 4)
    windows = ids[starts[:, None] + np.arange(length + 1)]
    return [(em.tensor(windows[:, :-1]), em.tensor(windows[:, 1:]))]


def next_character_loss(logits: em.Tensor, targets: em.Tensor) -> em.Tensor:
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       targets.reshape(-1))


def sample(model: CharLSTM, alphabet: list, prompt: str, length: int,
           temperature: float) -> str:
    """Continue ``prompt`` by drawing each character from softmax(logits / temperature)."""
    index = {c: i for i, c in enumerate(alphabet)}
    rng = em.random.generator()
    was_training = model.training
    model.eval()
    text = []
    with em.no_grad():
        logits, state = model(em.tensor([[index[c] for c in prompt]]))
        for _ in range(length):
            scores = logits[0, -1].numpy().astype(np.float64) / temperature
            p = np.exp(scores - scores.max())
            choice = int(rng.choice(len(alphabet), p=p / p.sum()))
            text.append(alphabet[choice])
            logits, state = model(em.tensor([[choice]]), state)
    model.train(was_training)
    return prompt + "".join(text)


class SampleText(em.train.Callback):
    """Every ``every`` epochs: print the loss in bits per character and a sample."""

    def __init__(self, alphabet: list, every: int, length: int, temperature: float) -> None:
        self.alphabet, self.every = alphabet, every
        self.length, self.temperature = length, temperature
        self.started = time.perf_counter()

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        if epoch % self.every and epoch != 1:
            return
        text = sample(trainer.model, self.alphabet, "Shall ", self.length, self.temperature)
        print(f"--- epoch {epoch}: {bits(logs['loss'])} on the training sonnets, "
              f"{bits(logs['val_loss'])} on the held-out one "
              f"({time.perf_counter() - self.started:.0f} s) ---\n{text}\n", flush=True)


def bits(nats: float) -> str:
    return f"{nats / math.log(2):.2f} bits/char"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batches", type=int, default=10, help="batches per epoch")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--length", type=int, default=100, help="characters per window")
    parser.add_argument("--tbptt", type=int, default=25, help="truncated BPTT steps")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--dropout", type=float, default=0.0, help="on the LSTM's output")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--every", type=int, default=10, help="epochs between samples")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    alphabet = sorted(set(SONNETS))
    ids = np.array([alphabet.index(c) for c in SONNETS], dtype=np.int64)
    split = SONNETS.rindex("\n\n") + 2  # the last sonnet is held out
    print(f"{split} characters of Shakespeare's sonnets to train on, {len(SONNETS) - split} "
          f"held out, {len(alphabet)} distinct; an LSTM of {args.hidden} units, truncated "
          f"BPTT over {args.tbptt} of {args.length} steps; uniform guessing is "
          f"{math.log2(len(alphabet)):.2f} bits per character\n", flush=True)
    em.manual_seed(args.seed)
    model = CharLSTM(len(alphabet), args.hidden, dropout=args.dropout)
    trainer = em.train.Trainer(
        model, next_character_loss, em.optim.Adam(model.parameters(), lr=args.lr),
        tbptt_steps=args.tbptt, clip_grad_norm=5.0, progress=False,
        callbacks=[SampleText(alphabet, args.every, 300, args.temperature)])
    history = trainer.fit(Windows(ids[:split], args.batches, args.batch_size, args.length),
                          held_out_batch(ids[split:], args.length), epochs=args.epochs)
    best = int(np.argmin(history["val_loss"]))
    print(f"after {args.epochs} epochs ({sum(history['time']):.0f} s): "
          f"{bits(history['loss'][-1])} on the training sonnets, "
          f"{bits(history['val_loss'][-1])} on the held-out one (best "
          f"{bits(history['val_loss'][best])}, epoch {best + 1})")


if __name__ == "__main__":
    main()
