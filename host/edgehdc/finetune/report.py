"""The comparison as people read it: summary.md and PNG plots (matplotlib, Agg backend).

accuracy.png: accuracy and HDC accuracy per strategy, mean +- std over seeds.
learning_curves.png: validation accuracy per epoch (first seed).
confusion.png: test confusion matrix per strategy (first seed).
features.png: 2-D PCA and t-SNE of the test embeddings before fine-tuning and after each strategy.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from edgehdc.fileio import atomic_write_bytes, atomic_write_text


def write_summary(path: Path, report: dict) -> Path:
    s = report["strategies"]
    lines = [
        f"# Fine-tuning strategies on {report['dataset']}: {report['shots']} shots per class",
        "",
        f"Base classes {report['base_classes']} ({report['samples']['base']} samples, "
        f"{report['pretrain_epochs']} epochs, decorrelation {report.get('pretrain_decorrelate', 0.0)}, "
        f"SupCon {report.get('pretrain_supcon', 0.0)}, reconstruction {report.get('pretrain_reconstruct', 0.0)}, "
        f"instance {report.get('pretrain_instance', 0.0)}) -> target classes {report['target_classes']}: "
        f"{report['samples']['target_train']} training, {report['samples']['target_val']} validation, "
        f"{report['samples']['target_test']} test samples. Model {report['model']['name']} "
        f"(width {report.get('width', 1)}, every strategy), "
        f"seeds {report['seeds']} (mean ± std), HDC at D={report['hdc_dim']} on the int8 embedding.",
        "",
    ]
    if report.get("command"):
        lines += [f"Command: `{report['command']}`", ""]
    lines += ["| strategy | accuracy | macro-F1 | HDC accuracy | int8 accuracy | silhouette | train s | "
              "trainable params |", "|---|---|---|---|---|---|---|---|"]
    for name, r in s.items():
        m, d = r["mean"], r["std"]

        def cell(k, fmt="{:.3f}"):
            return "n/a" if m[k] is None else f"{fmt.format(m[k])} ± {fmt.format(d[k])}"

        lines.append(f"| {name} | {cell('accuracy')} | {cell('macro_f1')} | {cell('hdc_accuracy')} | "
                     f"{cell('int8_accuracy')} | {cell('silhouette')} | {cell('train_seconds', '{:.2f}')} | "
                     f"{m['trainable_params']:.0f} |")
    fb = report["feature_quality_before"]
    lines += ["", f"Pretrained features on the target test split before fine-tuning: silhouette "
                  f"{fb['silhouette']:.3f}, cohesion {fb['cohesion']:.3f}, separation {fb['separation']:.3f}.",
              "", "## Claims of the write-ups, measured", "",
              "A claim holds when the mean of A minus its std exceeds the mean of B plus its std. The paired",
              "column is A - B on the same seed's split (mean ± std over seeds, and on how many seeds A is",
              "ahead): it is shown beside the verdict, which it does not change.", "",
              "| claim | A | B | metric | A | B | verdict | paired A - B |", "|---|---|---|---|---|---|---|---|"]
    for f in report["findings"]:
        paired = (f"{f['paired_mean']:+.3f} ± {f['paired_std']:.3f} ({f['a_ahead']}/{f['paired_n']})"
                  if "paired_mean" in f else "n/a")
        lines.append(f"| {f['claim']} | {f['a']} | {f['b']} | {f['metric']} | {f['mean_a']:.3f} ± {f['std_a']:.3f} "
                     f"| {f['mean_b']:.3f} ± {f['std_b']:.3f} | {f['verdict']} | {paired} |")
    lines += ["", "Plots: accuracy.png, learning_curves.png, confusion.png, features.png.", ""]
    return atomic_write_text(path, "\n".join(lines))


def write_plots(out: Path, report: dict, examples: dict, class_names: tuple[str, ...]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    names = list(report["strategies"])
    return [_accuracy(out / "accuracy.png", report, names),
            _curves(out / "learning_curves.png", examples, names),
            _confusions(out / "confusion.png", examples, names, class_names),
            _features(out / "features.png", examples, names)]


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _accuracy(path: Path, report: dict, names: list[str]) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2, 4))
    x = np.arange(len(names))
    for off, key, label in ((-0.2, "accuracy", "float accuracy"), (0.2, "hdc_accuracy", "HDC accuracy (int8)")):
        mean = [report["strategies"][n]["mean"][key] or 0 for n in names]
        std = [report["strategies"][n]["std"][key] or 0 for n in names]
        ax.bar(x + off, mean, 0.4, yerr=std, capsize=3, label=label)
    ax.set_xticks(x, names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{report['dataset']}, {report['shots']} shots/class, {len(report['seeds'])} seeds")
    ax.legend(loc="lower right")
    return _save(fig, path)


def _curves(path: Path, examples: dict, names: list[str]) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for n in names:
        h = examples[n]["history"]
        axes[0].plot(h["loss"], label=n)
        if "val_acc" in h:
            axes[1].plot(h["val_acc"], label=n)
    axes[0].set(xlabel="epoch", ylabel="training loss", yscale="log", title="training loss")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy", title="validation accuracy (first seed)")
    axes[1].legend(fontsize=8)
    return _save(fig, path)


def _confusions(path: Path, examples: dict, names: list[str], class_names: tuple[str, ...]) -> Path:
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    cols = min(4, len(names))
    rows = -(-len(names) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax, n in zip(axes.flat, names):
        ConfusionMatrixDisplay(np.array(examples[n]["confusion"]), display_labels=list(class_names)).plot(
            ax=ax, colorbar=False)
        ax.set_title(n, fontsize=9)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    return _save(fig, path)


def _features(path: Path, examples: dict, names: list[str]) -> Path:
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    panels = ["before", *names]
    y = np.asarray(examples["labels"])
    fig, axes = plt.subplots(2, len(panels), figsize=(2.6 * len(panels), 5.4), squeeze=False)
    for j, n in enumerate(panels):
        f = np.asarray(examples[n]["features"], np.float64)
        for i, (title, emb) in enumerate((
                ("PCA", PCA(2, random_state=0).fit_transform(f)),
                ("t-SNE", TSNE(2, perplexity=min(30, len(f) - 1), init="pca", random_state=0).fit_transform(f)))):
            axes[i, j].scatter(emb[:, 0], emb[:, 1], c=y, cmap="tab10", s=5)
            axes[i, j].set_title(f"{n}: {title}", fontsize=8)
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
    return _save(fig, path)
