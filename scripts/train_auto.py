#!/usr/bin/env python3
"""Does a learned layer earn its place in `auto`? Leave-one-source-out cross-validation of a
logistic regression over the hand-written scorer's contributions plus hashed word and character
n-grams of the last user message, against the hand-written scorer, length and random.

    python3 scripts/train_auto.py [--cli BIN] [--train ../shared/train/train.jsonl] [--bits 12]
                                  [--epochs 4] [--l2 1e-4] [--rate 0.05] [--boot 1000] [--seed 0]
                                  [--json OUT.json]

Inputs come from the scorer itself: `model-router-auto --features BITS` prints, per row, the
hand-written contributions and the n-gram buckets (`scorer/src/parse/ngrams.rs`), so this script
never tokenises or hashes; training sees exactly what a scorer would compute.

The model: z = a·x_hand + sum over hand-written contributions c_k·v_k + sum over n-grams w_j/sqrt(n)
+ b, where x_hand = 4·(hand-written sum - 0.5) (the squash's argument), v_k a contribution's value
by reason name, n the row's number of distinct buckets. It combines with the hand-written score
rather than replacing it: the combined score is squash(z / (4a) + 0.5) rounded to 0.001, i.e. the
hand-written sum plus a `learned` contribution (z - a·x_hand)/(4a), so signals absent from
single-turn training data (agent loops, tools, history) keep their hand-set weight. Fitted by
stochastic gradient descent (AdaGrad step sizes, L2 on the weights a row touches), rows in a
seeded order: the same inputs and flags give the same weights, bit for bit.

Folds ("sources"): uncommonroute_bench; the llmrouter tasks in five groups (knowledge QA, code,
math, multiple choice, other); zeroeval math-l5; zeroeval crux. Eight folds, because three
sources would make a mean over three held-out sets with different label definitions; grouping
llmrouter by task keeps near-duplicate task formats (gsm8k and agentverse-mgsm, mmlu and the other
multiple-choice sets) on the same side of the split. Labels as in scripts/auto_eval.py: gold tier
premium vs the rest (uncommonroute_bench), `needs_strong` otherwise.

Reported: per held-out fold, AUROC of learned (trained on the other seven), hand-written, length
(characters of message content) and random, with 95% bootstrap intervals over the fold's rows
(--boot resamples, shared by every policy so differences are paired); the mean over folds with
each fold resampled; learned - hand-written per fold and for the mean. The layer ships only if the
mean's paired interval excludes 0. Hyperparameters are fixed in advance (the defaults); the
--sweep flag reports other settings for sensitivity only, never to choose. Standard library only.
"""
import argparse
import json
import math
import os
import random
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from auto_eval import Boot, auroc_weighted, ci, load, text_of, tie_groups, train_label  # noqa: E402
from auto_quantiles import default_cli, run_cli  # noqa: E402

FOLD_OF_TASK = {
    "natural_qa": "llmrouter/knowledge", "trivia_qa": "llmrouter/knowledge",
    "mbpp": "llmrouter/code", "human_eval": "llmrouter/code",
    "math": "llmrouter/math", "gsm8k": "llmrouter/math", "agentverse-mgsm": "llmrouter/math",
    "commonsense_qa": "llmrouter/choice", "arc_challenge": "llmrouter/choice",
    "openbook_qa": "llmrouter/choice", "mmlu": "llmrouter/choice",
    "agentverse-logicgrid": "llmrouter/other", "commongen": "llmrouter/other",
}
POLICIES = ("learned", "hand", "length", "random")
# Fixed before the first run; --sweep shows how little they matter.
DEFAULTS = {"bits": 12, "epochs": 4, "rate": 0.05, "l2": 1e-4}


def fold_of(r):
    if r["source"] == "llmrouter":
        return FOLD_OF_TASK[r["label"]["task"]]
    if r["source"] == "zeroeval":
        return f"zeroeval/{r['workload']}"
    return r["source"]


def squash(s):
    x = 4.0 * (s - 0.5)
    return 0.5 + 0.5 * x / (1.0 + abs(x))


def part_name(token):
    """A contribution's stable name: `code_blocks=2` -> code_blocks; the three ask-length
    tokens are one feature."""
    name = token.split("=")[0]
    return "ask_length" if name in ("ask", "long_ask", "short_ask") else name


def features_of(cli, rows, bits):
    return run_cli(cli, rows, ["--features", str(bits)], what="gave features for")


class Row:
    """One training row as the model sees it: the hand-written sum, the named contributions
    (index, value) and the n-gram buckets (index, 1/sqrt(n)), on one index space."""

    __slots__ = ("hand_sum", "x", "label")

    def __init__(self, f, names, label, bits, hand_parts=True):
        self.hand_sum = f["base"] + sum(v for _, v in f["parts"])
        named = {}
        for token, v in f["parts"]:
            named[part_name(token)] = named.get(part_name(token), 0.0) + v
        grams = f["ngrams"]
        g = 1.0 / math.sqrt(len(grams)) if grams else 0.0
        n_named = len(names)
        self.x = ([(0, 4.0 * (self.hand_sum - 0.5))]
                  + [(1 + names.index(k), v) for k, v in sorted(named.items()) if k in names and hand_parts]
                  + [(1 + n_named + j, g) for j in grams])
        self.label = 1.0 if label else 0.0


class Model:
    def __init__(self, dim):
        self.w = [0.0] * dim
        self.b = 0.0

    def z(self, row):
        return self.b + sum(self.w[i] * v for i, v in row.x)

    def fit(self, rows, epochs, rate, l2, seed):
        """SGD on log loss with AdaGrad step sizes and L2 on the touched weights."""
        g2 = [1e-8] * len(self.w)
        gb = 1e-8
        order = list(range(len(rows)))
        rng = random.Random(f"{seed}:order")
        for _ in range(epochs):
            rng.shuffle(order)
            for k in order:
                r = rows[k]
                z = self.z(r)
                p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
                err = p - r.label
                for i, v in r.x:
                    g = err * v + l2 * self.w[i]
                    g2[i] += g * g
                    self.w[i] -= rate * g / math.sqrt(g2[i])
                gb += err * err
                self.b -= rate * err / math.sqrt(gb)
        return self

    def combined(self, row):
        """The shipped form: hand-written sum plus the learned contribution, squashed and rounded."""
        a = self.w[0]
        if a <= 0:
            return self.z(row)  # cannot be written as a contribution; ranking by z (reported)
        return round(squash(self.z(row) / (4.0 * a) + 0.5) * 1000.0) / 1000.0

    def contribution(self, row):
        a = self.w[0]
        return (self.z(row) - a * 4.0 * (row.hand_sum - 0.5)) / (4.0 * a) if a > 0 else None


def names_of(feats):
    return sorted({part_name(t) for f in feats.values() for t, _ in f["parts"]})


def folds_of(rows, by):
    folds = OrderedDict()
    for r in rows:
        folds.setdefault(fold_of(r) if by == "tasks" else r["source"], []).append(r)
    return folds


def cross_validate(rows, feats, args, epochs, rate, l2, boot_n, by="tasks", hand_parts=True):
    names = names_of(feats)
    dim = 1 + len(names) + (1 << args.bits)
    folds = folds_of(rows, by)
    data = {r["id"]: Row(feats[r["id"]], names, train_label(r), args.bits, hand_parts) for r in rows}
    res, reps = OrderedDict(), {}
    for name, held in folds.items():
        held_ids = {r["id"] for r in held}
        train = [data[r["id"]] for r in rows if r["id"] not in held_ids]
        model = Model(dim).fit(train, epochs, rate, l2, f"{args.seed}:{name}")
        test = [data[r["id"]] for r in held]
        labels = [t.label > 0 for t in test]
        rng = random.Random(f"{args.seed}:random:{name}")
        scores = {
            "learned": [model.combined(t) for t in test],
            "hand": [round(squash(t.hand_sum) * 1000.0) / 1000.0 for t in test],
            "length": [float(len(text_of(r))) for r in held],
            "random": [rng.random() for _ in held],
        }
        boot = Boot(len(held), boot_n, f"{args.seed}:loso:{name}")
        ones = [1] * len(held)
        block = {"n": len(held), "positives": sum(labels), "a": model.w[0]}
        reps[name] = {}
        for pol in POLICIES:
            g = tie_groups(scores[pol])
            reps[name][pol] = [auroc_weighted(g, labels, c) for c in boot.counts]
            block[pol] = {"auroc": auroc_weighted(g, labels, ones), "ci": ci(reps[name][pol])}
        block["learned_minus_hand"] = block["learned"]["auroc"] - block["hand"]["auroc"]
        block["learned_minus_hand_ci"] = ci([a - b for a, b in zip(reps[name]["learned"], reps[name]["hand"])])
        contrib = sorted(c for c in (model.contribution(t) for t in test) if c is not None)
        if contrib:
            block["contribution_p10_p50_p90"] = [contrib[int(q * (len(contrib) - 1))] for q in (0.1, 0.5, 0.9)]
        res[name] = block
        print(f"  {name}: n={len(held)} learned {block['learned']['auroc']:.3f} hand {block['hand']['auroc']:.3f} "
              f"diff {block['learned_minus_hand']:+.3f} {block['learned_minus_hand_ci']} a={model.w[0]:.3f}",
              file=sys.stderr)
    mean = {}
    for pol in POLICIES:
        point = sum(res[f][pol]["auroc"] for f in folds) / len(folds)
        per = [sum(x) / len(x) for x in zip(*(reps[f][pol] for f in folds))]
        mean[pol] = {"auroc": point, "ci": ci(per)}
    diffs = [sum(a) / len(a) - sum(b) / len(b)
             for a, b in zip(zip(*(reps[f]["learned"] for f in folds)), zip(*(reps[f]["hand"] for f in folds)))]
    mean["learned_minus_hand"] = mean["learned"]["auroc"] - mean["hand"]["auroc"]
    mean["learned_minus_hand_ci"] = ci(diffs)
    res["mean over folds"] = mean
    return res


def in_distribution(rows, feats, args, k=5):
    """Diagnostic, not the verdict: random k-fold CV (rows of every fold in training), AUROC of the
    out-of-fold predictions per LOSO fold. Shows whether the model learns anything where training
    and test share a distribution, which tells a transfer failure from a broken pipeline."""
    names = names_of(feats)
    dim = 1 + len(names) + (1 << args.bits)
    data = {r["id"]: Row(feats[r["id"]], names, train_label(r), args.bits) for r in rows}
    ids = [r["id"] for r in rows]
    random.Random(f"{args.seed}:kfold").shuffle(ids)
    part = {i: n % k for n, i in enumerate(ids)}
    oof = {}
    for j in range(k):
        model = Model(dim).fit([data[i] for i in ids if part[i] != j], args.epochs, args.rate, args.l2,
                               f"{args.seed}:kfold:{j}")
        for i in ids:
            if part[i] == j:
                oof[i] = model.combined(data[i])
    res = OrderedDict()
    for name, grp in folds_of(rows, "tasks").items():
        labels = [train_label(r) for r in grp]
        ones = [1] * len(grp)
        learned = auroc_weighted(tie_groups([oof[r["id"]] for r in grp]), labels, ones)
        hand = auroc_weighted(tie_groups([round(squash(data[r["id"]].hand_sum) * 1000.0) / 1000.0 for r in grp]),
                              labels, ones)
        res[name] = {"learned": learned, "hand": hand}
    res["mean"] = {p: sum(v[p] for v in res.values()) / len(res) for p in ("learned", "hand")}
    return res


def fmt(b):
    lo, hi = b["ci"] if b.get("ci") else (None, None)
    return f"{b['auroc']:.3f} [{lo:.3f}, {hi:.3f}]" if lo is not None else f"{b['auroc']:.3f}"


def fmt_diff(d, c):
    return f"{d:+.3f} [{c[0]:+.3f}, {c[1]:+.3f}]" if c else f"{d:+.3f}"


def markdown(res, args):
    out = [f"Leave-one-source-out AUROC on shared/train (bits {args.bits}, epochs {args.epochs}, rate {args.rate}, "
           f"l2 {args.l2}, seed {args.seed}; [95% CI], {args.boot} bootstrap resamples per fold)", "",
           "| held-out fold | rows (positive) | learned | hand-written | length | random | learned - hand-written |",
           "|---|---|---|---|---|---|---|"]
    for name, b in res.items():
        if name == "mean over folds":
            continue
        out.append(f"| {name} | {b['n']:,} ({b['positives']:,}) | {fmt(b['learned'])} | {fmt(b['hand'])} | "
                   f"{fmt(b['length'])} | {fmt(b['random'])} | {fmt_diff(b['learned_minus_hand'], b['learned_minus_hand_ci'])} |")
    m = res["mean over folds"]
    out.append(f"| **mean over folds** | | **{fmt(m['learned'])}** | **{fmt(m['hand'])}** | {fmt(m['length'])} | "
               f"{fmt(m['random'])} | **{fmt_diff(m['learned_minus_hand'], m['learned_minus_hand_ci'])}** |")
    c = m["learned_minus_hand_ci"]
    verdict = "ships" if c and c[0] > 0 else "stays out"
    out += ["", f"Verdict: the paired interval of the mean difference is [{c[0]:+.3f}, {c[1]:+.3f}]: "
                f"the learned layer {verdict}."]
    return "\n".join(out) + "\n"


def loso_report(cli, rows, boot, seed):
    """The verdict with the default settings, for scripts/auto_eval.py: (results, markdown)."""
    args = argparse.Namespace(seed=seed, boot=boot, **DEFAULTS)
    feats = features_of(cli, rows, args.bits)
    res = cross_validate(rows, feats, args, args.epochs, args.rate, args.l2, boot)
    return res, markdown(res, args)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=default_cli())
    ap.add_argument("--train", default=os.path.join(ROOT, "..", "shared", "train", "train.jsonl"))
    ap.add_argument("--bits", type=int, default=DEFAULTS["bits"])
    ap.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    ap.add_argument("--rate", type=float, default=DEFAULTS["rate"])
    ap.add_argument("--l2", type=float, default=DEFAULTS["l2"])
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sweep", action="store_true", help="also report other settings (sensitivity only)")
    ap.add_argument("--kfold", type=int, default=5, help="folds of the in-distribution diagnostic (0: skip)")
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = load(a.train)
    feats = features_of(a.cli, rows, a.bits)
    doc = {"settings": vars(a), "loso": cross_validate(rows, feats, a, a.epochs, a.rate, a.l2, a.boot)}
    sys.stdout.write(markdown(doc["loso"], a))
    if a.kfold:
        doc["in_distribution"] = ind = in_distribution(rows, feats, a, a.kfold)
        print(f"\nIn-distribution diagnostic (random {a.kfold}-fold CV, every fold's rows in training; not the verdict):")
        print("| fold | learned | hand-written |\n|---|---|---|")
        for name, v in ind.items():
            print(f"| {name} | {v['learned']:.3f} | {v['hand']:.3f} |")
    if a.sweep:
        doc["sweep"] = []
        print("\nSensitivity (not used to choose):\n\n| folds | hand-written contributions re-weighted | epochs | rate | l2 "
              "| learned | hand-written | learned - hand-written |\n|---|---|---|---|---|---|---|---|")
        for by, hand_parts, epochs, rate, l2 in (
                ("tasks", False, a.epochs, a.rate, a.l2), ("sources", True, a.epochs, a.rate, a.l2),
                ("sources", False, a.epochs, a.rate, a.l2), ("tasks", True, a.epochs, a.rate, 1e-3),
                ("tasks", True, a.epochs, a.rate, 1e-5), ("tasks", True, 2 * a.epochs, a.rate, a.l2),
                ("tasks", True, a.epochs, 4 * a.rate, a.l2)):
            r = cross_validate(rows, feats, a, epochs, rate, l2, a.boot, by, hand_parts)
            m = r["mean over folds"]
            doc["sweep"].append({"folds": by, "hand_parts": hand_parts, "epochs": epochs, "rate": rate, "l2": l2,
                                 "mean": m, "per_fold": {k: v["learned_minus_hand"] for k, v in r.items()
                                                         if k != "mean over folds"}})
            print(f"| {by} | {'yes' if hand_parts else 'no'} | {epochs} | {rate} | {l2} | {fmt(m['learned'])} | "
                  f"{fmt(m['hand'])} | {fmt_diff(m['learned_minus_hand'], m['learned_minus_hand_ci'])} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
