"""Dawid-Skene EM: jointly estimate each item's true class and each rater's confusion matrix from noisy labels.

Model: item i has a hidden class z_i ~ prior; rater r, seeing an item of class k, answers l with probability
``confusion[r][k, l]``. EM alternates item posteriors (E-step) with priors and confusion matrices (M-step).

Choices made here:

* Classes are the nominal categories of :func:`hitl.quality.rows.category` (responses, then the tie class), one
  label per (item, rater): the rater's latest judgment.
* Initialisation uses soft majority-vote posteriors (each item's vote shares), which anchors the class labels so
  that EM does not converge to a label-permuted solution.
* The M-step adds a small symmetric Dirichlet pseudo-count to every confusion cell and prior, so a rater seen once,
  or a class a rater never met, gives a near-uniform row instead of zeros, log(0) or 0/0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from hitl.quality.rows import JudgmentRow, category_table, infer_n_responses, latest_by_item


@dataclass(frozen=True)
class DawidSkeneResult:
    """Fitted Dawid-Skene model. Arrays are indexed by class; dicts by item id or rater."""

    n_classes: int
    priors: np.ndarray  # (n_classes,) estimated share of items in each true class
    posteriors: dict[int, np.ndarray]  # item -> (n_classes,) posterior over the true class
    labels: dict[int, int]  # item -> MAP class
    confusion: dict[str, np.ndarray]  # rater -> (n_classes, n_classes), row = true class, column = given label
    competence: dict[str, float]  # rater -> P(label == true class) = sum_k prior_k * confusion[k, k]
    n_iter: int
    converged: bool
    log_likelihood: float


def _empty(n_classes: int) -> DawidSkeneResult:
    return DawidSkeneResult(
        n_classes=n_classes,
        priors=np.full(n_classes, 1.0 / n_classes),
        posteriors={},
        labels={},
        confusion={},
        competence={},
        n_iter=0,
        converged=True,
        log_likelihood=0.0,
    )


def _m_step(
    post: np.ndarray, oi: np.ndarray, orr: np.ndarray, ol: np.ndarray, n_raters: int, smoothing: float
) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed confusion matrices (raters x true x given) and class priors from the current item posteriors."""
    n_cls = post.shape[1]
    # counts[r, k, l] = pseudo-count + posterior mass of true class k over the items rater r labelled l.
    counts = np.full((n_raters, n_cls, n_cls), smoothing)
    np.add.at(counts, (orr[:, None], np.arange(n_cls)[None, :], ol[:, None]), post[oi])
    confusion = counts / counts.sum(axis=2, keepdims=True)
    priors = post.sum(axis=0) + smoothing
    return confusion, priors / priors.sum()


def dawid_skene(
    rows: Iterable[JudgmentRow],
    n_classes: int | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
) -> DawidSkeneResult:
    """Fit Dawid-Skene by EM.

    ``n_classes`` defaults to the number of responses plus one tie class (see :func:`hitl.quality.rows.category`).
    Stops when no item posterior moves by more than ``tol``, when the log-likelihood improves by less than ``tol``
    relative to its size, or after ``max_iter`` iterations. ``smoothing`` is the
    Dirichlet pseudo-count added to each confusion cell and class-prior count. Empty input gives an empty result.
    """
    rows = list(rows)
    k_resp = infer_n_responses(rows)
    n_cls = k_resp + 1 if n_classes is None else n_classes
    if n_cls < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_cls}")
    cats = category_table(latest_by_item(rows), k_resp)
    if not cats:
        return _empty(n_cls)
    items = sorted(cats)
    raters = sorted({r for per_item in cats.values() for r in per_item})
    rater_idx = {r: j for j, r in enumerate(raters)}
    obs_item, obs_rater, obs_label = [], [], []
    for i, item in enumerate(items):
        for rater, label in cats[item].items():
            if not 0 <= label < n_cls:
                raise ValueError(f"label {label} of rater {rater!r} on item {item} is outside 0..{n_cls - 1}")
            obs_item.append(i)
            obs_rater.append(rater_idx[rater])
            obs_label.append(label)
    oi, orr, ol = np.array(obs_item), np.array(obs_rater), np.array(obs_label)
    n_items, n_raters = len(items), len(raters)

    # Soft majority vote: the share of each item's votes per class.
    post = np.zeros((n_items, n_cls))
    np.add.at(post, (oi, ol), 1.0)
    post /= post.sum(axis=1, keepdims=True)

    converged = False
    n_iter = 0
    log_lik = float("nan")
    while n_iter < max_iter:
        n_iter += 1
        confusion, priors = _m_step(post, oi, orr, ol, n_raters, smoothing)
        # E-step in log space: thousands of multiplied probabilities would underflow.
        log_joint = np.tile(np.log(priors), (n_items, 1))
        np.add.at(log_joint, oi, np.log(confusion[orr, :, ol]))
        top = log_joint.max(axis=1, keepdims=True)
        unnorm = np.exp(log_joint - top)
        norm = unnorm.sum(axis=1, keepdims=True)
        new_post = unnorm / norm
        prev_ll, log_lik = log_lik, float((np.log(norm) + top).sum())
        delta = float(np.abs(new_post - post).max())
        post = new_post
        # EM can crawl for hundreds of iterations along a flat ridge (e.g. how much mass the tie class gets), so a
        # negligible relative gain in likelihood also counts as converged.
        if delta < tol or abs(log_lik - prev_ll) <= tol * abs(log_lik):
            converged = True
            break

    # A last M-step so that the returned confusion matrices and priors match the returned posteriors.
    confusion, priors = _m_step(post, oi, orr, ol, n_raters, smoothing)
    competence = {r: float(priors @ np.diag(confusion[j])) for j, r in enumerate(raters)}

    return DawidSkeneResult(
        n_classes=n_cls,
        priors=priors,
        posteriors={item: post[i].copy() for i, item in enumerate(items)},
        labels={item: int(post[i].argmax()) for i, item in enumerate(items)},
        confusion={r: confusion[j].copy() for j, r in enumerate(raters)},
        competence=competence,
        n_iter=n_iter,
        converged=converged,
        log_likelihood=log_lik,
    )


def weighted_labels(result: DawidSkeneResult, min_confidence: float = 0.0) -> dict[int, int | None]:
    """Aggregate label per item from a fitted model: the MAP class, or None when its posterior is below
    ``min_confidence`` (so a caller can route uncertain items to more raters instead of training on them)."""
    return {
        item: (label if float(result.posteriors[item][label]) >= min_confidence else None)
        for item, label in result.labels.items()
    }


def leave_one_out_posteriors(
    result: DawidSkeneResult, rows: Iterable[JudgmentRow]
) -> dict[tuple[int, str], np.ndarray]:
    """Each (item, rater)'s posterior over the item's true class *without* that rater's own label.

    Under the fitted model a rater's label multiplies the item posterior by their confusion row
    ``confusion[r][:, label]``; dividing it out again gives what the other raters (and the prior) say, with no new
    EM fit per rater. Only (item, rater) pairs with at least one other label on the item are returned: alone on an
    item, the "others" are just the prior.
    """
    rows = list(rows)
    cats = category_table(latest_by_item(rows), infer_n_responses(rows))
    out: dict[tuple[int, str], np.ndarray] = {}
    for item, raters in cats.items():
        post = result.posteriors.get(item)
        if post is None or len(raters) < 2:
            continue
        for rater, label in raters.items():
            confusion = result.confusion.get(rater)
            if confusion is None or label >= confusion.shape[1]:
                continue
            # Divide in log space; the smoothed confusion cells are never exactly 0.
            log_post = np.log(np.clip(post, 1e-300, None)) - np.log(confusion[:, label])
            others = np.exp(log_post - log_post.max())
            out[(item, rater)] = others / others.sum()
    return out
