"""Multinomial logistic regression on sparse rows, trained with L-BFGS, in plain numpy.

Small enough to read in one sitting and fast enough to train at load: about a thousand
examples with some twenty thousand features train in a few hundred milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from intents.features import BIAS, SparseRows

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
Objective = Callable[[F64], tuple[float, F64]]


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """L2 strength ``c`` (larger = weaker regularisation, as in scikit-learn) and solver limits."""

    c: float = 20.0
    max_iter: int = 200
    tolerance: float = 1e-4
    balanced: bool = True


def _transpose(
    rows: SparseRows,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], F32, npt.NDArray[np.int32]]:
    """Column-major view of ``rows``: (row of each entry, column starts, values, columns seen)."""
    row_of = np.repeat(np.arange(rows.n_rows), np.diff(rows.indptr))
    order = np.argsort(rows.indices, kind="stable")
    cols = rows.indices[order]
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    return row_of[order], starts, rows.values[order], cols[starts]


def _segment_sum(values: F32, starts: npt.NDArray[np.int64]) -> F32:
    result: F32 = np.add.reduceat(values, starts, axis=0)
    return result


class SoftmaxRegression:
    """Weights ``(n_features, n_classes)``; logits of a row are the sum of its weighted features."""

    def __init__(self, weights: npt.NDArray[np.float32]) -> None:
        self.weights = weights

    @property
    def n_classes(self) -> int:
        return int(self.weights.shape[1])

    def logits(self, indices: npt.NDArray[np.int32], values: npt.NDArray[np.float32]) -> F64:
        """Logits of one row."""
        # Elementwise multiply-and-sum, not a BLAS call: BLAS threads add latency spikes on a
        # busy machine and gain nothing on a few hundred numbers.
        gathered = np.take(self.weights, indices, axis=0) * values[:, None]
        result: F64 = gathered.sum(axis=0, dtype=np.float64)
        return result

    def logits_many(self, rows: SparseRows) -> F64:
        gathered = np.take(self.weights, rows.indices, axis=0) * rows.values[:, None]
        return _segment_sum(gathered, rows.indptr[:-1]).astype(np.float64)

    @classmethod
    def fit(
        cls, rows: SparseRows, labels: npt.NDArray[np.int64], n_classes: int, config: TrainConfig
    ) -> SoftmaxRegression:
        """Minimise mean (optionally class-balanced) cross-entropy plus ``|W|^2 / (2 c n)``."""
        n, d, k = rows.n_rows, rows.n_features, n_classes
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        if config.balanced:
            sample_weight = (n / (k * np.maximum(counts, 1.0)))[labels]
        else:
            sample_weight = np.ones(n)
        sample_weight /= sample_weight.sum()
        onehot = np.zeros((n, k))
        onehot[np.arange(n), labels] = 1.0
        row_of, col_starts, col_values, cols = _transpose(rows)
        row_starts = rows.indptr[:-1]
        entry_values = rows.values[:, None]
        col_values = col_values[:, None]
        l2 = 1.0 / (config.c * n)
        penalised = np.ones((d, 1))
        penalised[BIAS] = 0.0

        def objective(flat: F64) -> tuple[float, F64]:
            w = flat.reshape(d, k)
            gathered = np.take(w.astype(np.float32), rows.indices, axis=0)
            np.multiply(gathered, entry_values, out=gathered)
            z = _segment_sum(gathered, row_starts).astype(np.float64)
            z -= z.max(axis=1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
            loss = -float((sample_weight * (log_p * onehot).sum(axis=1)).sum())
            residual = ((np.exp(log_p) - onehot) * sample_weight[:, None]).astype(np.float32)
            scattered = np.take(residual, row_of, axis=0)
            np.multiply(scattered, col_values, out=scattered)
            grad = l2 * penalised * w
            grad[cols] += _segment_sum(scattered, col_starts)
            loss += 0.5 * l2 * float((penalised * w * w).sum())
            return loss, grad.ravel()

        flat = _lbfgs(objective, np.zeros(d * k), config.max_iter, config.tolerance)
        return cls(flat.reshape(d, k).astype(np.float32))


def _dot(a: F64, b: F64) -> float:
    """Dot product without BLAS (whose threads stall on a busy machine)."""
    return float(np.einsum("i,i->", a, b))


def _lbfgs(objective: Objective, x: F64, max_iter: int, tolerance: float, memory: int = 10) -> F64:
    """Limited-memory BFGS with a backtracking (Armijo) line search; returns the minimiser."""
    loss, grad = objective(x)
    s_hist: list[F64] = []
    y_hist: list[F64] = []
    for _ in range(max_iter):
        if float(np.abs(grad).max()) < tolerance:
            break
        direction = -grad
        alphas: list[float] = []
        rhos = [1.0 / _dot(y, s) for s, y in zip(s_hist, y_hist, strict=True)]
        for s, y, rho in zip(reversed(s_hist), reversed(y_hist), reversed(rhos), strict=True):
            alpha = rho * _dot(s, direction)
            alphas.append(alpha)
            direction = direction - alpha * y
        if s_hist:
            last_s, last_y = s_hist[-1], y_hist[-1]
            direction *= _dot(last_s, last_y) / _dot(last_y, last_y)
        for s, y, rho, alpha in zip(s_hist, y_hist, rhos, reversed(alphas), strict=True):
            beta = rho * _dot(y, direction)
            direction = direction + (alpha - beta) * s
        slope = _dot(grad, direction)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            s_hist.clear()
            y_hist.clear()
            direction, slope = -grad, -_dot(grad, grad)
        step = 1.0
        while True:
            candidate = x + step * direction
            new_loss, new_grad = objective(candidate)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s_vec, y_vec = candidate - x, new_grad - grad
        if _dot(s_vec, y_vec) > 1e-10:
            s_hist.append(s_vec)
            y_hist.append(y_vec)
            if len(s_hist) > memory:
                s_hist.pop(0)
                y_hist.pop(0)
        improvement = loss - new_loss
        x, loss, grad = candidate, new_loss, new_grad
        if improvement < 1e-9 * max(1.0, abs(loss)):
            break
    return x
