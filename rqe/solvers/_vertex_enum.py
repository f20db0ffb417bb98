"""All extreme Nash equilibria of a bimatrix game by vertex enumeration.

The method is the one of Avis, Rosenberg, Savani and von Stengel (2010), *Enumeration of
Nash equilibria for two-player games*, Economic Theory 42:9-37, Section 3: with payoffs
made positive, player 1's best-response polytope is
``P = {x >= 0 : B^T x <= 1}`` and player 2's is ``Q = {y >= 0 : A y <= 1}``.  Label
``i < m`` of ``x`` means ``x_i = 0`` and label ``m + j`` means that column ``j`` is a best
response to ``x``; for ``y``, label ``i`` means row ``i`` is a best response and
``m + j`` means ``y_j = 0``.  The extreme equilibria are the completely labelled vertex
pairs ``(x, y) != (0, 0)``, normalised to probability vectors.

The vertices of ``P`` are the facets of its polar, computed by Qhull
(:class:`scipy.spatial.ConvexHull`); their labels are the constraints found tight.  When
``P`` is simple (every vertex has exactly ``m`` labels) each vertex ``x`` with support
``S`` and best-response set ``T`` admits at most one partner, the solution of
``A[S, T] y_T = 1``; so one hull and one batch of small linear solves find every extreme
equilibrium.  Otherwise (a degenerate game) both polytopes are enumerated and every pair
whose labels cover all ``m + n`` labels is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull

__all__ = ["VertexEnumeration", "enumerate_extreme_equilibria"]


@dataclass(frozen=True)
class VertexEnumeration:
    """Extreme equilibria found, and whether degeneracy was seen on the way.

    ``pairs`` holds ``(x, y)`` probability vectors; ``degenerate`` is true when some
    vertex had more labels than the dimension of its polytope.
    """

    pairs: tuple
    degenerate: bool


def unit_range(M: np.ndarray) -> np.ndarray:
    """Positive affine image of ``M`` with entries in ``[1, 2]`` (best responses unchanged)."""
    lo, hi = M.min(), M.max()
    if hi > lo:
        return 1.0 + (M - lo) / (hi - lo)
    return np.ones_like(M)


def vertex_labels(M: np.ndarray, tol: float) -> np.ndarray:
    """Label sets of the vertices of ``{z in R^d : z >= 0, M z <= 1}`` (``M > 0`` of shape ``(k, d)``).

    Returns a boolean array of shape ``(V, d + k)``, one row per vertex (the origin
    included): column ``i < d`` says ``z_i = 0`` and column ``d + r`` says ``(M z)_r = 1``.
    """
    k, d = M.shape
    if d == 1:
        top = M[:, 0].max()
        ends = np.zeros((2, 1 + k), dtype=bool)
        ends[0, 0] = True
        ends[1, 1:] = M[:, 0] >= top * (1.0 - tol)
        return ends
    row_sums = M.sum(axis=1)
    t = 0.5 / row_sums.max()
    constraints = np.vstack([-np.eye(d), M])
    slack = np.concatenate([np.full(d, t), 1.0 - t * row_sums])
    polar = constraints / slack[:, None]
    equations = ConvexHull(polar).equations
    normals = equations[:, :-1] / -equations[:, -1:]
    tight = np.abs(normals @ polar.T - 1.0) <= tol
    if (tight.sum(axis=1) == d).all():
        return tight
    _, first = np.unique(np.packbits(tight, axis=1), axis=0, return_index=True)
    return tight[np.sort(first)]


def _solve_batches(mats: np.ndarray) -> np.ndarray:
    """Solve ``mats[g] z = 1`` for every ``g``; raises ``LinAlgError`` when one is singular."""
    ones = np.ones(mats.shape[:2] + (1,))
    return np.linalg.solve(mats, ones)[..., 0]


def _simple_path(A, B, labels, tol):
    """Partners of the vertices of a simple ``P`` (one linear solve each); ``None`` if a system is singular."""
    m, n = A.shape
    labels = labels[~labels[:, :m].all(axis=1)]
    support = ~labels[:, :m]
    replies = labels[:, m:]
    sizes = support.sum(axis=1)
    pairs, degenerate = [], False
    for k in np.unique(sizes):
        rows = np.flatnonzero(sizes == k)
        S = np.nonzero(support[rows])[1].reshape(-1, k)
        T = np.nonzero(replies[rows])[1].reshape(-1, k)
        try:
            y_t = _solve_batches(A[S[:, :, None], T[:, None, :]])
        except np.linalg.LinAlgError:
            return None
        keep = (y_t >= -tol).all(axis=1)
        S, T, y_t = S[keep], T[keep], y_t[keep]
        y = np.zeros((len(S), n))
        np.put_along_axis(y, T, np.clip(y_t, 0.0, None), axis=1)
        Ay = y @ A.T
        keep = (Ay <= 1.0 + tol).all(axis=1)
        if not keep.any():
            continue
        S, T, y_t, y, Ay = S[keep], T[keep], y_t[keep], y[keep], Ay[keep]
        degenerate |= bool(((np.abs(Ay - 1.0) <= tol).sum(axis=1) > k).any() or (y_t <= tol).any())
        x = np.zeros((len(S), m))
        np.put_along_axis(x, S, _solve_batches(np.swapaxes(B[S[:, :, None], T[:, None, :]], 1, 2)), axis=1)
        x = np.clip(x, 0.0, None)
        pairs.extend(zip(x / x.sum(axis=1, keepdims=True), y / y.sum(axis=1, keepdims=True)))
    return VertexEnumeration(tuple(pairs), degenerate)


def _masks(labels: np.ndarray) -> list[int]:
    """Each boolean row as a Python int bit set."""
    packed = np.packbits(labels, axis=1)
    return [int.from_bytes(row.tobytes(), "big") for row in packed]


def _coordinates(M: np.ndarray, tight: np.ndarray) -> np.ndarray:
    """The vertex of ``{z >= 0, M z <= 1}`` with the given tight constraints, as a probability vector."""
    d = M.shape[1]
    system = np.vstack([np.eye(d)[tight[:d]], M[tight[d:]]])
    rhs = np.concatenate([np.zeros(int(tight[:d].sum())), np.ones(int(tight[d:].sum()))])
    z = np.linalg.lstsq(system, rhs, rcond=None)[0]
    z = np.clip(z, 0.0, None)
    return z / z.sum()


def _general_path(A, B, labels_p, tol):
    """Enumerate both polytopes and keep every completely labelled vertex pair."""
    m, n = A.shape
    labels_q = vertex_labels(A, tol)
    labels_q = np.hstack([labels_q[:, n:], labels_q[:, :n]])
    labels_p = labels_p[~labels_p[:, :m].all(axis=1)]
    labels_q = labels_q[~labels_q[:, m:].all(axis=1)]
    degenerate = bool((labels_p.sum(axis=1) > m).any() or (labels_q.sum(axis=1) > n).any())
    masks_p, masks_q = _masks(labels_p), _masks(labels_q)
    width = 8 * np.packbits(labels_p[:1], axis=1).shape[1]
    full = sum(1 << (width - 1 - b) for b in range(m + n))
    simple_q: dict[int, list[int]] = {}
    for j, mask in enumerate(masks_q):
        if labels_q[j].sum() == n:
            simple_q.setdefault(mask, []).append(j)
    degenerate_q = [j for j in range(len(masks_q)) if labels_q[j].sum() > n]
    matches = []
    for i, mask in enumerate(masks_p):
        need = full & ~mask
        if labels_p[i].sum() == m:
            found = simple_q.get(need, []) + [j for j in degenerate_q if masks_q[j] & need == need]
        else:
            found = np.flatnonzero(labels_q[:, ~labels_p[i]].all(axis=1)).tolist()
        matches.extend((i, j) for j in found)
    xs = {i: _coordinates(B.T, labels_p[i]) for i in {i for i, _ in matches}}
    ys = {j: _coordinates(A, np.concatenate([labels_q[j, m:], labels_q[j, :m]])) for j in {j for _, j in matches}}
    return VertexEnumeration(tuple((xs[i], ys[j]) for i, j in matches), degenerate)


def enumerate_extreme_equilibria(A: np.ndarray, B: np.ndarray, tol: float) -> VertexEnumeration:
    """All extreme equilibria of the bimatrix game ``(A, B)`` (rows are player 1's actions).

    The lower-dimensional polytope is enumerated; ``tol`` is the tolerance on the
    constraints after the payoffs are mapped to ``[1, 2]``.
    """
    if A.shape[0] > A.shape[1]:
        swapped = enumerate_extreme_equilibria(B.T, A.T, tol)
        return VertexEnumeration(tuple((x, y) for y, x in swapped.pairs), swapped.degenerate)
    A, B = unit_range(A), unit_range(B)
    labels_p = vertex_labels(B.T, tol)
    m = A.shape[0]
    if (labels_p.sum(axis=1) == m).all():
        result = _simple_path(A, B, labels_p, tol)
        if result is not None:
            return result
    return _general_path(A, B, labels_p, tol)
