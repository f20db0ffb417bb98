"""HySRL: transfer from a shifted source environment once the shifted state-actions are identified.

Run: ``python examples/hybrid_transfer.py [--quick] [--out hybrid_transfer.png]``.

The experiment of crqu/hybrid-transfer-rl (``experiment/hybrid-right-beta.py``,
``online-right-beta.py``, ``generate_source_and_v_opt.ipynb``; read for the layout and the
algorithm, rewritten here in vectorised numpy without an RL framework):

* a 4x4 grid (rlberry's ``NRoom`` with one room of size 4): start (1, 1); goal (3, 3), reward
  1 and terminal; rewards 0.01 at the start, 0.1 at (2, 2), 0.15 at (1, 3) (collected on each
  step spent there; pushing right at (1, 3) keeps the agent there); actions left, right,
  down, up; the intended move succeeds with probability 0.95, otherwise a uniformly chosen
  other neighbour; a move off the grid stays put; horizon 20; a terminal state pays its
  reward once and ends the episode;
* the *source* task is that grid; the *target* adds three terminal traps of reward 0 at
  (2, 1), (1, 2) and (2, 3) (absorbing in the target, ordinary cells in the source), so the
  shifted state-actions are the traps' rows (total variation 1 from the source; pushing right
  at (2, 3) stays put in both, so 11 of the 12 trap rows shift);
* HySRL, phase 1: reward-free exploration greedy on an uncertainty function
  ``W_h(s, a) = min(1, c_W cb 4 H b(n) + P_hat max_a' W_{h+1})`` with ``b(n) = beta(n) / n``,
  ``beta(n) = log(6 S A H / delta) + S log(8 e (n + 1))``, ``cb = 0.002``, ``c_W = 0.0005``,
  until ``3 sqrt(W_0) + W_0`` at the start falls below ``sigma beta_sep / 8`` (``sigma = 0.25``,
  ``beta_sep = 0.45``); the state-actions whose estimated law is more than ``beta_sep / 2`` from
  the source's in total variation are *shifted*; phase 2: optimistic (UCB) backward induction
  on the hybrid model (the source estimate and counts where nothing shifted, online estimates
  where it did) with the bonus ``cb (3 sqrt(Var_P_hat(V_{h+1}) b) + 14 H^2 b)``, values
  capped at ``H``;
* the baseline is the same optimistic planner on online data only (the authors' BPI-UCBVI).

What is simplified here: the authors' planners also carry a lower confidence bound and an
optimality-gap function (used for a stopping rule and a small correction of the upper bound),
left out; the source data are ``N_SOURCE = 50,000`` samples of every state-action (the authors
collect about as many per pair by reward-free exploration of the source); the reward function
is known; the policy is replanned every ``batch`` episodes instead of after every episode; a
policy's return is computed exactly under the target model instead of by 100 rollouts.  The
planners treat a state whose every action loops back (estimated probability >= 0.99) as
terminal, as the authors' code does.  The comparison depends on the bonus scale ``cb``, which
also sets the length of phase 1: with ``cb`` ten times smaller (3 seeds) the online learner stays
above 95% of the optimal return from 18,900 episodes and HySRL from about 5,700.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

SIZE = 4
START, GOAL = (1, 1), (3, 3)
TRAPS = ((2, 1), (1, 2), (2, 3))
REWARD_AT = {GOAL: 1.0, START: 0.01, (2, 2): 0.1, (1, 3): 0.15}
SUCCESS = 0.95
HORIZON = 20
MOVES = ((0, -1), (0, 1), (1, 0), (-1, 0))        # left, right, down, up (rlberry's order)
DELTA, SIGMA, BETA_SEP = 0.1, 0.25, 0.45          # the authors' defaults
CB, C_W = 0.002, 0.0005                           # the authors' bonus constants
N_SOURCE = 50000                                  # source samples per state-action
BATCH = 50                                        # episodes between replanning
S, A = SIZE * SIZE, len(MOVES)


def index(cell) -> int:
    return cell[0] * SIZE + cell[1]


def grid_kernel(terminals) -> np.ndarray:
    """Transition kernel ``(S, A, S)`` of the grid with the given terminal (absorbing) cells.

    Examples
    --------
    >>> P = grid_kernel([GOAL])
    >>> P.shape, float(P[index((0, 0)), 0, index((0, 0))])     # left off the grid: stay
    ((16, 4, 16), 1.0)
    >>> round(float(P[index((1, 1)), 3, index((0, 1))]), 3)  # up from (1, 1): 0.95
    0.95
    """
    P = np.zeros((S, A, S))
    for r in range(SIZE):
        for c in range(SIZE):
            s = index((r, c))
            if (r, c) in terminals:
                P[s, :, s] = 1.0
                continue
            valid = [(r + dr, c + dc) for dr, dc in MOVES if 0 <= r + dr < SIZE and 0 <= c + dc < SIZE]
            for a, (dr, dc) in enumerate(MOVES):
                target = (r + dr, c + dc)
                if target not in valid:
                    P[s, a, s] = 1.0
                    continue
                for nb in valid:
                    if nb == target:
                        P[s, a, index(nb)] = SUCCESS if len(valid) > 1 else 1.0
                    else:
                        P[s, a, index(nb)] = (1 - SUCCESS) / (len(valid) - 1)
    return P


def rewards() -> np.ndarray:
    """State rewards ``(S,)`` (collected on acting in the state)."""
    r = np.zeros(S)
    for cell, v in REWARD_AT.items():
        r[index(cell)] = v
    return r


def terminal_mask(P) -> np.ndarray:
    """``(..., S)``: states whose every action loops back with probability >= 0.99 (treated as terminal)."""
    loops = np.diagonal(P, axis1=-3, axis2=-1)                 # (..., A, S)
    return np.all(loops >= 0.99, axis=-2)


def policy_value(P, r, policy) -> np.ndarray:
    """Exact return from every state of a deterministic policy ``(..., H, S)`` under ``P`` ``(S, A, S)``.

    A terminal state pays its reward once and ends the episode.

    Examples
    --------
    >>> P, r = grid_kernel([GOAL]), rewards()
    >>> stay = np.zeros((HORIZON, S), dtype=int)                 # always push left
    >>> float(policy_value(P, r, stay)[index(GOAL)])              # the goal pays once
    1.0
    """
    term = terminal_mask(P)
    lead = policy.shape[:-2]
    V = np.zeros((*lead, S))
    for h in range(HORIZON - 1, -1, -1):
        Pa = P[np.arange(S), policy[..., h, :]]                 # (..., S, S)
        V = r + np.where(term, 0.0, np.einsum("...st,...t->...s", Pa, V))
    return V


def optimal_value(P, r) -> tuple[np.ndarray, np.ndarray]:
    """Optimal return ``(S,)`` and policy ``(H, S)`` by backward induction (terminal states pay once).

    Examples
    --------
    >>> V, pi = optimal_value(grid_kernel([GOAL, *TRAPS]), rewards())
    >>> round(float(V[index(START)]), 3)
    2.223
    """
    term = terminal_mask(P)
    V = np.zeros(S)
    pi = np.zeros((HORIZON, S), dtype=int)
    for h in range(HORIZON - 1, -1, -1):
        Q = r[:, None] + np.where(term[:, None], 0.0, P @ V)
        pi[h], V = Q.argmax(1), Q.max(1)
    return V, pi


def _bonus(n) -> np.ndarray:
    beta = math.log(6 * S * A * HORIZON / DELTA) + S * np.log(8 * math.e * (n + 1))
    return np.where(n > 0, beta / np.maximum(n, 1), np.inf)


def _model(N) -> tuple[np.ndarray, np.ndarray]:
    n = N.sum(-1)
    P = np.where(n[..., None] > 0, N / np.maximum(n, 1)[..., None], 1.0 / S)
    return P, n


def _plan_w(P, n, c_w, cb) -> np.ndarray:
    """Reward-free uncertainty function ``W`` ``(R, H, S, A)`` (phase 1)."""
    b = _bonus(n)
    W = np.zeros((*n.shape[:-2], HORIZON, S, A))
    nxt = np.zeros(n.shape[:-1])
    for h in range(HORIZON - 1, -1, -1):
        W[..., h, :, :] = np.minimum(1.0, c_w * cb * 4 * HORIZON * b + np.einsum("...sat,...t->...sa", P, nxt))
        nxt = W[..., h, :, :].max(-1)
    return W


def _plan_q(P, n, r, cb) -> np.ndarray:
    """Optimistic action values ``(R, H, S, A)`` (phase 2)."""
    b = _bonus(n)
    term = terminal_mask(P)[..., None]
    Q = np.zeros((*n.shape[:-2], HORIZON, S, A))
    V = np.zeros(n.shape[:-1])
    for h in range(HORIZON - 1, -1, -1):
        PV = np.einsum("...sat,...t->...sa", P, V)
        var = np.clip(np.einsum("...sat,...t->...sa", P, V ** 2) - PV ** 2, 0.0, None)
        with np.errstate(invalid="ignore"):
            bonus = np.where(np.isfinite(b), cb * (3 * np.sqrt(var * b) + 14 * HORIZON ** 2 * b), np.inf)
        Q[..., h, :, :] = np.minimum(HORIZON, r[:, None] + bonus + np.where(term, 0.0, PV))
        V = Q[..., h, :, :].max(-1)
    return Q


def source_data(rng: np.random.Generator) -> np.ndarray:
    """Counts ``(S, A, S)``: ``N_SOURCE`` sampled transitions of every state-action of the source task."""
    P = grid_kernel([GOAL])
    return np.stack([rng.multinomial(N_SOURCE, P[s, a]) for s in range(S) for a in range(A)]).reshape(S, A, S)


def run(algorithm: str, *, episodes: int, seeds: int, seed: int = 0, cb: float = CB, c_w: float = C_W,
        batch: int = BATCH) -> dict:
    """Learn in the target task; returns the exact return of the behaviour policy after every batch.

    ``algorithm`` is ``"hybrid"`` (HySRL) or ``"online"`` (the baseline).  Returns a dict with
    ``episodes`` ``(batches,)``, ``returns`` ``(seeds, batches)``, ``phase1_end`` (episodes of shift
    identification per seed, HySRL only) and ``shifted`` (per seed, the identified set).

    Examples
    --------
    >>> out = run("hybrid", episodes=200, seeds=2)
    >>> out["returns"].shape
    (2, 4)
    """
    if algorithm not in ("hybrid", "online"):
        raise ValueError(f"The 'algorithm' parameter of run must be 'hybrid' or 'online'. Got {algorithm!r}.")
    rng = np.random.default_rng(seed)
    P_true, r = grid_kernel([GOAL, *TRAPS]), rewards()
    src = source_data(np.random.default_rng(seed + 1))
    P_src, n_src = _model(src)
    cum = np.cumsum(P_true.reshape(S * A, S), axis=1)
    N = np.zeros((seeds, S, A, S))
    exploring = np.full(seeds, algorithm == "hybrid")
    shifted = np.ones((seeds, S, A), dtype=bool)           # online data everywhere until identified
    phase1_end = np.full(seeds, -1)
    batches = episodes // batch
    returns = np.zeros((seeds, batches))
    s0 = index(START)
    threshold = SIGMA * BETA_SEP / 8
    for k in range(batches):
        P_on, n_on = _model(N)
        P_hat = np.where(shifted[..., None], P_on, P_src)
        n_hat = np.where(shifted, n_on, n_src)
        policy = _plan_q(P_hat, n_hat, r, cb).argmax(-1)        # (seeds, H, S)
        if exploring.any():
            W = _plan_w(P_on, n_on, c_w, cb)
            w0 = W[:, 0, s0].max(-1)
            done = exploring & (3 * np.sqrt(w0) + w0 < threshold)
            for i in np.flatnonzero(done):                  # identify the shift, switch to the hybrid model
                tv = 0.5 * np.abs(P_on[i] - P_src).sum(-1)
                shifted[i] = tv > BETA_SEP / 2
                phase1_end[i] = k * batch
            exploring &= ~done
            if done.any():
                P_hat = np.where(shifted[..., None], P_on, P_src)
                n_hat = np.where(shifted, n_on, n_src)
                policy = _plan_q(P_hat, n_hat, r, cb).argmax(-1)
            policy = np.where(exploring[:, None, None], W.argmax(-1), policy)
        # batch episodes per seed with this policy; every transition is recorded (terminal states loop)
        who = np.repeat(np.arange(seeds), batch)
        state = np.full(who.size, s0)
        for h in range(HORIZON):
            act = policy[who, h, state]
            row = state * A + act
            nxt = (rng.random(who.size)[:, None] > cum[row]).sum(1)
            np.add.at(N, (who, state, act, np.minimum(nxt, S - 1)), 1.0)
            state = np.minimum(nxt, S - 1)
        returns[:, k] = policy_value(P_true, r, policy)[:, s0]
    return {"episodes": (np.arange(batches) + 1) * batch, "returns": returns, "phase1_end": phase1_end,
            "shifted": shifted if algorithm == "hybrid" else None}


def first_reaching(curve: np.ndarray, episodes: np.ndarray, level: float) -> int | None:
    """Episodes after which the mean curve stays at or above ``level`` (None if it never does).

    Examples
    --------
    >>> first_reaching(np.array([0.0, 2.0, 1.0, 2.0, 2.0]), np.arange(1, 6), 1.5)
    4
    """
    above = curve >= level
    if not above[-1]:
        return None
    last_below = np.flatnonzero(~above)
    return int(episodes[last_below[-1] + 1]) if last_below.size else int(episodes[0])


def smooth(y: np.ndarray, width: int) -> np.ndarray:
    """Trailing moving average over the last ``width`` points (fewer at the start).

    Examples
    --------
    >>> smooth(np.array([0.0, 2.0, 4.0, 6.0]), 2).tolist()
    [0.0, 1.0, 3.0, 5.0]
    """
    c = np.cumsum(np.insert(y, 0, 0.0, axis=-1), axis=-1)
    k = np.arange(1, y.shape[-1] + 1)
    lo = np.maximum(k - width, 0)
    return (c[..., k] - c[..., lo]) / (k - lo)


def plot(results: dict, v_star: float, path, *, width: int = 10):
    """Return against episodes (moving average over ``width`` batches): mean and range over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    for (name, out), color in zip(results.items(), ("C0", "C3")):
        x, y = out["episodes"], smooth(out["returns"], width)
        ax.plot(x, y.mean(0), color=color, label=f"{name} (mean of {len(y)} seeds)")
        ax.fill_between(x, y.min(0), y.max(0), color=color, alpha=0.2, lw=0)
        ends = out["phase1_end"][out["phase1_end"] >= 0]
        if ends.size:
            ax.axvspan(0, ends.mean(), color=color, alpha=0.06, lw=0,
                       label="HySRL phase 1: reward-free exploration")
    ax.axhline(v_star, color="k", ls="--", lw=1, label=f"optimal return {v_star:.3f}")
    ax.set(xlabel="episodes in the target task", ylabel=f"return of the behaviour policy (avg of {width} evals)",
           xlim=(0, None), title="HySRL on the 4x4 trap grid: hybrid transfer vs purely online UCB")
    ax.legend(fontsize=8, loc="center right")
    ax.grid(alpha=0.3)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.12, top=0.92)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None) -> dict:
    """Run both learners, print the curves' key points, save the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run for the test suite")
    parser.add_argument("--out", default="hybrid_transfer.png", help="where to save the figure")
    args = parser.parse_args(argv)
    # quick: a 50 times smaller exploration constant, so the shift is identified within the short budget
    episodes, seeds, batch, c_w = (4000, 2, 50, C_W / 50) if args.quick else (200_000, 5, 200, C_W)
    P_true, r = grid_kernel([GOAL, *TRAPS]), rewards()
    v_star = float(optimal_value(P_true, r)[0][index(START)])
    v_src = float(policy_value(P_true, r, optimal_value(grid_kernel([GOAL]), r)[1])[index(START)])
    results = {name: run(name, episodes=episodes, seeds=seeds, batch=batch, c_w=c_w) for name in ("hybrid", "online")}
    print(f"optimal return in the target {v_star:.3f}; the source-optimal policy gets {v_src:.3f} there")
    true_shift = 0.5 * np.abs(P_true - grid_kernel([GOAL])).sum(-1) > 0
    for name, out in results.items():
        mean = out["returns"].mean(0)
        x = out["episodes"]
        checkpoints = [e for e in (1000, 2000, 5000, 10000, 20000, 50000, 100000, 150000) if e < x[-1]]
        marks = ", ".join(f"{int(e)}: {mean[np.searchsorted(x, e)]:.3f}" for e in (x[0], *checkpoints, x[-1]))
        reach = first_reaching(mean, x, 0.95 * v_star)
        print(f"{name:7s} mean return after episodes {{{marks}}}; stays >= 95% of optimal from "
              f"{reach if reach is not None else 'never'}")
        if out["shifted"] is not None:
            agree = [bool(np.array_equal(sh, true_shift)) for sh in out["shifted"]]
            print(f"        shift identified after {out['phase1_end'].tolist()} episodes; identified set equals the "
                  f"true one ({int(true_shift.sum())} state-actions) in {sum(agree)}/{len(agree)} seeds")
    path = plot(results, v_star, args.out)
    print(f"figure: {path}")
    results["v_star"] = v_star
    return results


if __name__ == "__main__":
    main()
