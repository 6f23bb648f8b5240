#!/usr/bin/env python3
"""Measures `auto` against the length and random baselines, per labelled source, with bootstrap
intervals: the baseline any learned layer has to beat (docs/auto.md prints its tables).

    python3 scripts/auto_eval.py [--cli BIN] [--before-cli OLD_BIN] [--boot 1000] [--seed 0]
                                 [--json OUT.json] [--svg docs/auto-operating-point.svg]

- Calibration (`../shared/eval/calibration.jsonl`): per source/workload, AUROC of the score against
  `needs_strong` and APGR (as `../shared/eval/evaluate.py` defines it, imported from there) for the
  hand-written scorer, length (characters of message content, evaluate.py's baseline) and random
  (a seeded uniform score), each with a 95% bootstrap interval, and the paired difference
  scorer - length with its own interval (same resamples for every policy).
- Training data (`../shared/train/train.jsonl`): AUROC per source, same policies and intervals.
  Labels: `needs_strong` (llmrouter, zeroeval); uncommonroute_bench has tiers only, so its label
  is gold tier premium (COMPLEX/REASONING) vs the rest. The hand-written scorer has no training,
  so leave-one-source-out cross-validation is, for it, exactly this per-source AUROC.
- Leave-one-source-out (scripts/train_auto.py with its default settings): a learned layer trained
  on seven folds of the training rows, tested on the eighth, against the hand-written scorer, length
  and random on the same rows, with the paired interval of learned - hand-written per fold and for
  the mean over folds (the figure that decides whether the layer ships). `--no-loso` skips it.
- Code detection (a reason starting with `code`), before (`--before-cli`) and after: precision,
  recall and F1 on the calibration rows with `is_code`, and on training rows whose source says
  what they are (CODE_LABEL below). "Tech talk": rows that are not code but name a technology
  (TECH below): the share of them flagged as code.
- Operating point: for each asked premium share, the threshold `auto.premium_share` maps it to
  (nearest share in scorer/auto_quantiles.json, as the scorer does); the share it gives on the
  training rows and on the calibration rows with quality labels, and the quality retained there
  against all-premium, with length and random at the same share.

Rows go to the CLI as raw UTF-8 (scripts/auto_quantiles.py). Standard library only.
"""
import argparse
import importlib.util
import json
import math
import os
import random
import re
import sys
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from auto_quantiles import default_cli, score_rows  # noqa: E402

SHARED = os.path.join(ROOT, "..", "shared")
POLICIES = ("ours", "length", "random")
SHARES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)

# Training rows whose source says whether they ask for code: coding benchmarks, and the English
# uncommonroute_bench categories that are about writing or reviewing code, against every category
# and task that is not. Left out (None): `debugging` (half of it is sensors, pipelines and
# hardware), categories that are software-adjacent design or operations, and non-English rows
# (the scanner's words are English).
CODE_TASKS = {"mbpp", "human_eval", "crux"}
CODE_CATEGORIES = {"simple-code", "complex-code", "code-review", "code-snippet-qa", "testing"}
UNCLEAR_CATEGORIES = {"debugging", "architecture", "system-design", "infrastructure", "ml-pipeline",
                      "security-analysis", "migration", "performance", "agentic-task", "data-analysis",
                      "structured-output", "documentation", "algorithm-proof"}
# Words that name a technology; a non-code row with one of them is "tech talk".
TECH = re.compile(r"\b(python|java|javascript|typescript|sql|api|apis|http|https|linux|docker|kubernetes|"
                  r"react|git|github|database|server|software|computer|programming|algorithm|cloud|code|"
                  r"website|web|app|excel|html|json|css|gpu|cpu|network|internet|ai|machine learning)\b", re.I)


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def load_evaluate(path):
    spec = importlib.util.spec_from_file_location("shared_evaluate", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def text_of(row):
    parts = []
    for m in row["request"].get("messages") or []:
        c = m.get("content")
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, list):
            parts.extend(p.get("text", "") for p in c if isinstance(p, dict))
    return "\n".join(parts)


# ------------------------------------------------------------------------------------ statistics
class Boot:
    """Bootstrap resamples of one group, shared by every policy (so differences are paired)."""

    def __init__(self, n, reps, seed):
        rng = random.Random(seed)
        self.counts = []
        for _ in range(reps):
            c = [0] * n
            for i in rng.choices(range(n), k=n):
                c[i] += 1
            self.counts.append(c)

    def samples(self):
        """Each resample as a list of row indices (for evaluate.py's curve functions)."""
        for c in self.counts:
            yield [i for i, k in enumerate(c) for _ in range(k)]


def tie_groups(scores):
    """Row indices grouped by equal score, ascending."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    groups, last = [], object()
    for i in order:
        if scores[i] != last:
            groups.append([])
            last = scores[i]
        groups[-1].append(i)
    return groups


def auroc_weighted(groups, labels, w):
    """AUROC (ties count half) with row weights (bootstrap counts)."""
    num, neg_below, pos, neg = 0.0, 0, 0, 0
    for g in groups:
        gp = sum(w[i] for i in g if labels[i])
        gn = sum(w[i] for i in g if not labels[i])
        num += gp * (neg_below + 0.5 * gn)
        neg_below += gn
        pos += gp
        neg += gn
    return num / (pos * neg) if pos and neg else None


def ci(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    at = lambda q: v[min(len(v) - 1, max(0, int(round(q * (len(v) - 1)))))]
    return [at(0.025), at(0.975)]


def policy_scores(rows, preds, name, seed):
    rng = random.Random(f"{seed}:random:{name}")
    return {
        "ours": [preds[r["id"]]["score"] for r in rows],
        "length": [float(len(text_of(r))) for r in rows],
        "random": [rng.random() for _ in rows],
    }


def auroc_block(rows, labels, scores, boot):
    """Point AUROC, interval, and the paired difference to length, per policy."""
    out = {}
    ones = [1] * len(rows)
    per_rep = {}
    for pol, s in scores.items():
        g = tie_groups(s)
        point = auroc_weighted(g, labels, ones)
        reps = [auroc_weighted(g, labels, c) for c in boot.counts]
        per_rep[pol] = reps
        out[pol] = {"auroc": point, "ci": ci(reps)}
    for pol in ("ours",):
        diffs = [a - b if a is not None and b is not None else None
                 for a, b in zip(per_rep[pol], per_rep["length"])]
        out[pol]["minus_length"] = (out[pol]["auroc"] - out["length"]["auroc"]
                                    if out[pol]["auroc"] is not None else None)
        out[pol]["minus_length_ci"] = ci(diffs)
    return out, per_rep


def apgr_block(ev, rows, scores, boot, seed):
    pairs = [ev.pair_of(r) for r in rows]
    gain = [p[1] - p[0] for p in pairs]
    idx = list(range(len(rows)))
    samples = list(boot.samples())
    out, reps = {}, {}
    for pol, s in scores.items():
        pos = ev.rank_positions(s, seed)
        point = ev.apgr_of(ev.pgr_curve(idx, pos, gain))
        reps[pol] = [ev.apgr_of(ev.pgr_curve(smp, pos, gain)) for smp in samples]
        out[pol] = {"apgr": point, "ci": ci(reps[pol])}
    out["ours"]["minus_length"] = out["ours"]["apgr"] - out["length"]["apgr"]
    out["ours"]["minus_length_ci"] = ci([a - b for a, b in zip(reps["ours"], reps["length"])
                                         if a is not None and b is not None])
    return out


# ------------------------------------------------------------------------------------ sections
def calibration_section(ev, rows, preds, boot_n, seed):
    groups = OrderedDict()
    for r in rows:
        groups.setdefault(f"{r['source']}/{r['workload']}", []).append(r)
    ur = [r for r in rows if r["source"] == "uncommonroute"]
    groups["uncommonroute/all pooled"] = ur
    res = OrderedDict()
    for name, grp in groups.items():
        if not all(r.get("needs_strong") in (True, False) for r in grp):
            continue
        labels = [bool(r["needs_strong"]) for r in grp]
        scores = policy_scores(grp, preds, name, seed)
        boot = Boot(len(grp), boot_n, f"{seed}:cal:{name}")
        g = {"n": len(grp), "positives": sum(labels)}
        if 0 < sum(labels) < len(grp):
            g["auroc"], _ = auroc_block(grp, labels, scores, boot)
        if all(ev.pair_of(r) for r in grp):
            g["apgr"] = apgr_block(ev, grp, scores, boot, seed)
        res[name] = g
    return res


def train_label(r):
    if r["source"] == "uncommonroute_bench":
        return r["gold_tier"] == "premium"
    return bool(r["needs_strong"])


def train_section(rows, preds, boot_n, seed):
    res = OrderedDict()
    by_source = OrderedDict()
    by_workload = OrderedDict()
    for r in rows:
        by_source.setdefault(r["source"], []).append(r)
        task = (r.get("label") or {}).get("task") or r["workload"]
        by_workload.setdefault(f"{r['source']}/{task}", []).append(r)
    reps_by_source = {}
    for level, groups in (("source", by_source), ("workload", by_workload)):
        for name, grp in groups.items():
            labels = [train_label(r) for r in grp]
            if not 0 < sum(labels) < len(grp):
                continue
            scores = policy_scores(grp, preds, name, seed)
            reps = boot_n if level == "source" or len(grp) >= 100 else 0
            boot = Boot(len(grp), reps, f"{seed}:train:{name}")
            block, per_rep = auroc_block(grp, labels, scores, boot)
            res[name] = {"level": level, "n": len(grp), "positives": sum(labels), "auroc": block}
            if level == "source":
                reps_by_source[name] = per_rep
    # Mean over sources (the figure leave-one-source-out reports), resampling each source.
    mean = {}
    for pol in POLICIES:
        point = sum(res[s]["auroc"][pol]["auroc"] for s in reps_by_source) / len(reps_by_source)
        per = list(zip(*(reps_by_source[s][pol] for s in reps_by_source)))
        mean[pol] = {"auroc": point, "ci": ci([sum(x) / len(x) for x in per]) if per else None}
    d = list(zip(*(reps_by_source[s]["ours"] for s in reps_by_source)))
    dl = list(zip(*(reps_by_source[s]["length"] for s in reps_by_source)))
    mean["ours"]["minus_length"] = mean["ours"]["auroc"] - mean["length"]["auroc"]
    mean["ours"]["minus_length_ci"] = ci([sum(a) / len(a) - sum(b) / len(b) for a, b in zip(d, dl)])
    res["mean over sources"] = {"level": "mean", "n": len(rows), "auroc": mean}
    return res


def code_label_train(r):
    lab = r.get("label") or {}
    if r["source"] == "uncommonroute_bench":
        cat = lab.get("category")
        if cat in UNCLEAR_CATEGORIES or lab.get("lang") != "en":
            return None
        return cat in CODE_CATEGORIES
    return (lab.get("task") or r["workload"]) in CODE_TASKS


def prf(flags, labels, boot_n, seed):
    def f(w):
        tp = sum(k for k, a, y in zip(w, flags, labels) if a and y)
        fp = sum(k for k, a, y in zip(w, flags, labels) if a and not y)
        fn = sum(k for k, a, y in zip(w, flags, labels) if y and not a)
        p = tp / (tp + fp) if tp + fp else None
        rec = tp / (tp + fn) if tp + fn else None
        f1 = 2 * p * rec / (p + rec) if p and rec else None
        return p, rec, f1
    p, rec, f1 = f([1] * len(flags))
    boot = Boot(len(flags), boot_n, f"{seed}:code")
    reps = [f(c) for c in boot.counts]
    return {"n": len(flags), "positives": sum(labels), "flagged": sum(flags), "precision": p, "recall": rec,
            "f1": f1, "precision_ci": ci([x[0] for x in reps]), "recall_ci": ci([x[1] for x in reps]),
            "f1_ci": ci([x[2] for x in reps])}


def is_flagged(pred):
    return any(isinstance(x, str) and x.startswith("code") for x in pred.get("reasons", []))


def code_section(cal, cal_preds, train, train_preds, boot_n, seed):
    res = OrderedDict()
    coded = [r for r in cal if r.get("is_code") in (True, False)]
    sets = OrderedDict()
    for r in coded:
        sets.setdefault(r["source"], []).append(r)
    sets["calibration, all rows with is_code"] = coded
    for name, grp in sets.items():
        flags = [is_flagged(cal_preds[r["id"]]) for r in grp]
        res[name] = prf(flags, [r["is_code"] for r in grp], boot_n, seed)
    talk = [r for r in coded if not r["is_code"] and TECH.search(text_of(r))]
    res["calibration tech talk"] = {"n": len(talk), "flagged": sum(is_flagged(cal_preds[r["id"]]) for r in talk)}
    tl = [(r, code_label_train(r)) for r in train]
    tl = [(r, y) for r, y in tl if y is not None]
    res["train (the tuning set)"] = prf([is_flagged(train_preds[r["id"]]) for r, _ in tl], [y for _, y in tl],
                                        boot_n, seed)
    talk = [r for r, y in tl if not y and TECH.search(text_of(r))]
    res["train tech talk"] = {"n": len(talk), "flagged": sum(is_flagged(train_preds[r["id"]]) for r in talk)}
    return res


def threshold_for(table, share):
    best = (math.inf, 1.0)
    for score, at in table:
        gap = abs(at - share)
        if gap <= best[0]:
            best = (gap, score)
    return best[1]


def operating_section(ev, cal, cal_preds, train, train_preds, boot_n, seed):
    with open(os.path.join(ROOT, "scorer", "auto_quantiles.json")) as f:
        table = json.load(f)["at_or_above"]
    sets = OrderedDict()
    for r in cal:
        if ev.pair_of(r):
            sets.setdefault(f"{r['source']}/{r['workload']}", []).append(r)
    pooled = [r for g in sets.values() for r in g]
    sets = OrderedDict([("pooled", pooled)] + list(sets.items()))
    train_scores = [train_preds[r["id"]]["score"] for r in train]
    boot = Boot(len(pooled), boot_n, f"{seed}:op")
    out = []
    for share in SHARES:
        t = threshold_for(table, share)
        point = {"asked": share, "threshold": t,
                 "train_share": sum(s >= t for s in train_scores) / len(train_scores), "sets": {}}
        for name, grp in sets.items():
            pairs = [ev.pair_of(r) for r in grp]
            weak, strong = [p[0] for p in pairs], [p[1] for p in pairs]
            ours = [cal_preds[r["id"]]["score"] >= t for r in grp]
            k = sum(ours)
            # Length at the same share: the k longest rows (ties in a seeded random order).
            lpos = ev.rank_positions([float(len(text_of(r))) for r in grp], seed)
            longest = [p < k for p in lpos]

            def kept(prem, w=None):
                w = w or [1] * len(grp)
                got = sum(c * (s if p else q) for c, p, q, s in zip(w, prem, weak, strong))
                top = sum(c * s for c, s in zip(w, strong))
                return 100 * got / top if top else None
            rand = 100 * (sum(weak) + k / len(grp) * (sum(strong) - sum(weak))) / sum(strong)
            entry = {"n": len(grp), "premium_share": k / len(grp), "ours": kept(ours), "length": kept(longest),
                     "random": rand}
            if name == "pooled":
                entry["ours_ci"] = ci([kept(ours, c) for c in boot.counts])
                entry["length_ci"] = ci([kept(longest, c) for c in boot.counts])
            point["sets"][name] = entry
        out.append(point)
    return out


# ------------------------------------------------------------------------------------ output
def fmt(x, d=3):
    return "-" if x is None else f"{x:.{d}f}"


def fmt_ci(block, key, d=3):
    c = block.get("ci") if key in ("auroc", "apgr") else block.get(key + "_ci")
    v = block.get(key)
    if v is None:
        return "-"
    return f"{v:.{d}f} [{c[0]:.{d}f}, {c[1]:.{d}f}]" if c else f"{v:.{d}f}"


def signed(block):
    v, c = block.get("minus_length"), block.get("minus_length_ci")
    if v is None:
        return "-"
    return f"{v:+.3f} [{c[0]:+.3f}, {c[1]:+.3f}]" if c else f"{v:+.3f}"


def markdown(doc):
    out = []
    out.append("### Calibration rows: AUROC and APGR per source\n")
    out.append("| source / workload | rows (needs_strong) | AUROC ours | length | random | ours - length | "
               "APGR ours | length | random | ours - length |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for name, g in doc["calibration"].items():
        a, p = g.get("auroc"), g.get("apgr")
        cells = [fmt_ci(a[k], "auroc") for k in POLICIES] + [signed(a["ours"])] if a else ["-"] * 4
        cells += [fmt_ci(p[k], "apgr") for k in POLICIES] + [signed(p["ours"])] if p else ["-"] * 4
        out.append(f"| {name} | {g['n']} ({g['positives']}) | " + " | ".join(cells) + " |")
    out.append("\n### Training rows: AUROC per source (for the hand-written scorer, leave-one-source-out)\n")
    out.append("| source | rows (positive) | AUROC ours | length | random | ours - length |")
    out.append("|---|---|---|---|---|---|")
    for name, g in doc["train"].items():
        if g["level"] == "workload":
            continue
        a = g["auroc"]
        rows = f"{g['n']} ({g['positives']})" if "positives" in g else f"{g['n']}"
        out.append(f"| {name} | {rows} | " + " | ".join(fmt_ci(a[k], "auroc") for k in POLICIES)
                   + f" | {signed(a['ours'])} |")
    out.append("\n| workload (train) | rows (positive) | AUROC ours | length | random |")
    out.append("|---|---|---|---|---|")
    for name, g in doc["train"].items():
        if g["level"] != "workload":
            continue
        a = g["auroc"]
        out.append(f"| {name} | {g['n']} ({g['positives']}) | "
                   + " | ".join(fmt_ci(a[k], "auroc") for k in POLICIES) + " |")
    for when in ("before", "after"):
        c = doc.get(f"code_{when}")
        if not c:
            continue
        out.append(f"\n### Code detection, {when}\n")
        out.append("| rows | n (code) | flagged | precision | recall | F1 |")
        out.append("|---|---|---|---|---|---|")
        for name, g in c.items():
            if "precision" in g:
                out.append(f"| {name} | {g['n']} ({g['positives']}) | {g['flagged']} | {fmt_ci(g, 'precision')} | "
                           f"{fmt_ci(g, 'recall')} | {fmt_ci(g, 'f1')} |")
            else:
                out.append(f"| {name}: not code, names a technology | {g['n']} | {g['flagged']} | - | - | - |")
    out.append("\n### Operating point: asked premium share -> calibration quality rows\n")
    names = list(doc["operating_point"][0]["sets"])
    out.append("| asked | threshold | share on train | share on calibration | quality retained ours | length | random | "
               + " | ".join(f"{n} ours / length" for n in names[1:]) + " |")
    out.append("|---|---|---|---|---|---|---|" + "---|" * (len(names) - 1))
    for p in doc["operating_point"]:
        s = p["sets"]["pooled"]
        oc, lc = s["ours_ci"], s["length_ci"]
        per = " | ".join(f"{p['sets'][n]['ours']:.1f} / {p['sets'][n]['length']:.1f}" for n in names[1:])
        out.append(f"| {p['asked']:.0%} | {p['threshold']:.3f} | {p['train_share']:.1%} | {s['premium_share']:.1%} | "
                   f"{s['ours']:.1f} [{oc[0]:.1f}, {oc[1]:.1f}] | {s['length']:.1f} [{lc[0]:.1f}, {lc[1]:.1f}] | "
                   f"{s['random']:.1f} | {per} |")
    return "\n".join(out) + "\n"


def svg(doc):
    """Quality retained vs premium share on the pooled calibration quality rows, by hand."""
    W, H, L, R, T, B = 560, 360, 60, 150, 20, 50
    pw, ph = W - L - R, H - T - B
    pts = [(p["sets"]["pooled"]["premium_share"], p["sets"]["pooled"]) for p in doc["operating_point"]]
    lo = math.floor(min(min(s["random"], s["ours"], s["length"]) for _, s in pts) / 5) * 5
    lo = min(lo, 70)
    # Retained quality passes 100% where the weak model beat the strong one on some rows.
    hi = max(100, math.ceil(max(s["ours_ci"][1] for _, s in pts)))
    x = lambda v: L + v * pw
    y = lambda v: T + (hi - v) / (hi - lo) * ph
    e = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         'font-family="sans-serif" font-size="11">',
         f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>']
    for i in range(0, 11, 2):
        v = i / 10
        e.append(f'<line x1="{x(v):.1f}" y1="{T}" x2="{x(v):.1f}" y2="{T + ph}" stroke="#ddd"/>')
        e.append(f'<text x="{x(v):.1f}" y="{T + ph + 15}" text-anchor="middle">{i * 10}%</text>')
    for v in range(int(lo), hi + 1, 5):
        e.append(f'<line x1="{L}" y1="{y(v):.1f}" x2="{L + pw}" y2="{y(v):.1f}" stroke="#ddd"/>')
        e.append(f'<text x="{L - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}%</text>')
    e.append(f'<rect x="{L}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    e.append(f'<text x="{L + pw / 2}" y="{H - 12}" text-anchor="middle">share of requests sent to premium</text>')
    e.append(f'<text transform="translate(14 {T + ph / 2}) rotate(-90)" text-anchor="middle">'
             'quality retained vs all-premium</text>')
    # The interval of ours, then the three lines.
    band = [(x(s["premium_share"]), y(s["ours_ci"][1])) for _, s in pts] + \
           [(x(s["premium_share"]), y(s["ours_ci"][0])) for _, s in reversed(pts)]
    e.append('<polygon fill="#1f77b4" fill-opacity="0.15" stroke="none" points="'
             + " ".join(f"{a:.1f},{b:.1f}" for a, b in band) + '"/>')
    styles = (("ours", "#1f77b4", ""), ("length", "#ff7f0e", ' stroke-dasharray="6 3"'),
              ("random", "#777", ' stroke-dasharray="2 3"'))
    for i, (key, color, dash) in enumerate(styles):
        path = " ".join(f"{x(sh):.1f},{y(s[key]):.1f}" for sh, s in pts)
        e.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{path}"/>')
        for sh, s in pts:
            if key == "ours":
                e.append(f'<circle cx="{x(sh):.1f}" cy="{y(s[key]):.1f}" r="2.5" fill="{color}"/>')
        ly = T + 20 + i * 18
        e.append(f'<line x1="{L + pw + 12}" y1="{ly}" x2="{L + pw + 36}" y2="{ly}" stroke="{color}" '
                 f'stroke-width="2"{dash}/>')
        label = {"ours": "auto (95% CI)", "length": "length", "random": "random"}[key]
        e.append(f'<text x="{L + pw + 42}" y="{ly + 4}">{label}</text>')
    n = doc["operating_point"][0]["sets"]["pooled"]["n"]
    e.append(f'<text x="{L + pw + 12}" y="{T + 90}">{n} calibration rows</text>')
    e.append(f'<text x="{L + pw + 12}" y="{T + 104}">with quality labels</text>')
    e.append(f'<text x="{L + pw + 12}" y="{T + 118}">(GSM8K, MMLU, arena)</text>')
    e.append("</svg>")
    return "\n".join(e) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=default_cli())
    ap.add_argument("--before-cli", help="an earlier CLI, for code detection before and after")
    ap.add_argument("--eval", default=os.path.join(SHARED, "eval", "calibration.jsonl"))
    ap.add_argument("--evaluate", default=None, help="evaluate.py (default: beside --eval)")
    ap.add_argument("--train", default=os.path.join(SHARED, "train", "train.jsonl"))
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json")
    ap.add_argument("--svg")
    ap.add_argument("--no-loso", action="store_true", help="skip the learned layer's leave-one-source-out test")
    a = ap.parse_args()
    ev = load_evaluate(a.evaluate or os.path.join(os.path.dirname(os.path.abspath(a.eval)), "evaluate.py"))
    cal, train = load(a.eval), load(a.train)
    cal_preds, train_preds = score_rows(a.cli, cal), score_rows(a.cli, train)
    doc = {"cli": a.cli, "boot": a.boot, "seed": a.seed,
           "calibration": calibration_section(ev, cal, cal_preds, a.boot, a.seed),
           "train": train_section(train, train_preds, a.boot, a.seed),
           "code_after": code_section(cal, cal_preds, train, train_preds, a.boot, a.seed),
           "operating_point": operating_section(ev, cal, cal_preds, train, train_preds, a.boot, a.seed)}
    if a.before_cli:
        doc["code_before"] = code_section(cal, score_rows(a.before_cli, cal), train,
                                          score_rows(a.before_cli, train), a.boot, a.seed)
    sys.stdout.write(markdown(doc))
    if not a.no_loso:
        # The learned layer's test (scripts/train_auto.py, its default settings): the verdict on
        # whether it ships, with the hand-written scorer, length and random on the same folds.
        from train_auto import loso_report
        doc["loso"], table = loso_report(a.cli, train, a.boot, a.seed)
        sys.stdout.write("\n### Training rows: leave-one-source-out, learned layer against the hand-written scorer\n\n"
                         + table)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg(doc))


if __name__ == "__main__":
    main()
