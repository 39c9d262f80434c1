"""Moving through a timbre space by audio descriptors (the paper's descriptor-based synthesis).

The decoder maps every latent point to a magnitude frame, so every point has
descriptors (:data:`~timbre_explorer.core.signal.descriptors.DESCRIPTORS`). Two
tools steer by them (a descriptor's value over a plane of the map is
:mod:`timbre_explorer.core.synthesis.fields`):

* :func:`reach`: the point near ``z0`` whose decoded frame has the asked
  descriptor values, by gradient descent through the decoder and the
  differentiable descriptors, or by the paper's greedy neighbourhood search;
* :func:`follow`: a path along which one descriptor follows a curve over
  time (:func:`curve`), each step reached from the previous point so the
  path stays continuous; render it with :func:`~timbre_explorer.core.synthesis.synth.render_path`.

Targets are compared in a *natural unit* per descriptor, so Hz, dB and the
flatness ratio weigh alike: the descriptor's spread (standard deviation)
over the notes of the map as the model decodes them (what it can make, not
what the dataset held), measured on log10 of the flatness (it spans ten
decades) and on the other descriptors as they are (loudness is already
logarithmic; Hz differences are what the sliders move). Distances from the
start are measured in the map's own spread (:func:`latent_spread`), so one
``distance_weight`` suits models whose latent spaces differ in size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from timbre_explorer.core.errors import ParameterError
from timbre_explorer.core.signal.units import check_names

if TYPE_CHECKING:
    import torch
    from numpy.typing import ArrayLike

    from timbre_explorer.core.synthesis.space import TimbreSpace

METHODS = ("greedy", "gradient")
#: The paper's greedy neighbourhood search: on the bundled model (38 starts, centroid +300 Hz, loudness and flatness
#: held) it missed the target by over 5 % in 3 % of moves against 13 % for the gradient, which stalls on
#: plateaus, in 46 ms against 131 ms (median; the gradient's slowest 1.3 s).
DEFAULT_METHOD = METHODS[0]
CURVES = ("rising", "falling", "log", "exp", "constant")
DEFAULT_DISTANCE_WEIGHT = 0.01
DEFAULT_TOLERANCE = 0.02
#: A move holds the descriptors it does not target: each should stay within this share of its spread over the map
#: (natural units: for the bundled model about 2 dB of loudness). The targets come first: when the point that
#: reaches them moved a held descriptor further, a second search from there adds the held ones' squared changes
#: (loudness weighed twice) to the targets' (weighed ten times) and is kept if it still reaches the targets and
#: holds better; what still moved too far is named (``broken``).
HOLD_TOLERANCE = 0.25
HOLD_WEIGHTS = {"loudness": 2.0}
HOLD_WEIGHT = 1.0
TARGET_WEIGHT_WHILE_HOLDING = 10.0
#: What a move holds by default: loudness and flatness (noisiness). Centroid, bandwidth and roll-off all measure
#: brightness: moving one moves the others, and holding them would ask for the impossible (measured on the tiny
#: model: the centroid then reached 9 % of its asked change).
DEFAULT_HOLD = ("loudness", "flatness")
_FLATNESS_FLOOR = 1e-12
_Values = TypeVar("_Values", float, np.ndarray, "torch.Tensor")  # a descriptor's value(s), in and out alike


# ---------------------------------------------------------------------------------------------- units
def _natural(name: str, value: _Values) -> _Values:
    """A descriptor in the unit its differences are measured in (log10 for flatness)."""
    if name != "flatness":
        return value
    if not isinstance(value, (float, np.ndarray)):  # a tensor
        return value.clamp_min(_FLATNESS_FLOOR).log10()
    return np.log10(np.maximum(value, _FLATNESS_FLOOR))


def descriptor_scales(space: TimbreSpace) -> dict[str, float]:
    """The natural unit of each descriptor: its spread over the map's notes as decoded (see the module docstring)."""
    out = {}
    for name, v in space.decoded_descriptors.items():
        s = float(np.std(_natural(name, np.asarray(v, np.float64))))
        out[name] = s if np.isfinite(s) and s > 0 else 1.0
    return out


def latent_spread(space: TimbreSpace) -> float:
    """Mean squared distance of the map's notes from their mean: the unit of the distance penalty."""
    s = float(np.var(np.asarray(space.notes.z, np.float64), axis=0).sum())
    return s if np.isfinite(s) and s > 0 else 1.0


# ---------------------------------------------------------------------------------------------- reach
@dataclass(frozen=True)
class Reached:
    """Where :func:`reach` got to.

    ``error`` is the largest, over the targets, share of the asked change
    still missing, in natural units: 0 reached, 1 no closer than the start
    (the change is taken as at least 1 % of the descriptor's spread, so a
    target equal to the start value does not divide by zero).
    """

    z: np.ndarray  # [latent]
    values: dict[str, float]  # achieved, physical units
    start_values: dict[str, float]  # at z0
    targets: dict[str, float]
    error: float
    path: np.ndarray  # [k, latent] the points visited, z0 first, z last
    iterations: int
    method: str
    held: dict[str, tuple[float, float]]  # the descriptors held, (start, end), physical units
    broken: tuple[str, ...] = ()  # those that moved more than HOLD_TOLERANCE: the move failed to hold them

    def holds_message(self) -> str:
        """One sentence on what the move could not hold (empty when it held everything)."""
        parts = [f"{name} {self.held[name][0]:.4g} → {self.held[name][1]:.4g}" for name in self.broken]
        return f"The move changed what it should have held: {', '.join(parts)}." if parts else ""


class _Objective:
    """Squared distance to the targets in natural units, plus ``distance_weight |z - z0|^2 / S^2``."""

    def __init__(self, space: TimbreSpace, z0: np.ndarray, targets: dict[str, float], distance_weight: float, *,
                 scales: dict[str, float] | None = None, change: np.ndarray | None = None,
                 hold: tuple[str, ...] = (), target_weight: float = 1.0, pitch: float | None = None,
                 dynamic: str | None = None):
        held = tuple(h for h in hold if h not in targets)
        self.space, self.names, self.n_targets = space, tuple(targets) + held, len(targets)
        self.pitch, self.dynamic = pitch, dynamic  # what the frames are decoded at (a conditioned model's)
        scales = scales or descriptor_scales(space)
        self.scale = np.array([scales[k] for k in self.names])
        self.z0 = np.asarray(z0, np.float64)
        self.weight = float(distance_weight) / latent_spread(space)
        self.start = self.values(self.z0[None])[0]
        # a held descriptor's target is where it starts
        self.target = np.concatenate([[_natural(k, float(targets[k])) for k in targets], self.start[len(targets):]])
        self.weights = np.array([target_weight] * len(targets) + [HOLD_WEIGHTS.get(k, HOLD_WEIGHT) for k in held])
        # the change the error is a share of: the asked one, or the caller's (a whole curve's range)
        n = self.n_targets
        change = np.abs(self.target[:n] - self.start[:n]) if change is None else np.asarray(change, np.float64)
        self.denominator = np.maximum(change, 0.01 * self.scale[:n])

    def values(self, z: np.ndarray) -> np.ndarray:
        """Natural-unit descriptors ``[n, targets]`` of latent points ``[n, latent]``."""
        from timbre_explorer.core.synthesis.fields import describe_points

        d = describe_points(self.space, z, self.names, pitch=self.pitch, dynamic=self.dynamic)
        return np.stack([_natural(k, d[k].astype(np.float64)) for k in self.names], 1)

    def loss(self, z: np.ndarray, values: np.ndarray) -> np.ndarray:
        r = (values - self.target) / self.scale
        return (self.weights * r * r).sum(-1) + self.weight * ((z - self.z0) ** 2).sum(-1)

    def error(self, values: np.ndarray) -> np.ndarray:
        """The targets' error (held descriptors are judged apart, by :data:`HOLD_TOLERANCE`)."""
        n = self.n_targets
        return (np.abs(values[..., :n] - self.target[:n]) / self.denominator).max(-1)


def reach(space: TimbreSpace, z0: ArrayLike, targets: dict[str, float], *, method: str = DEFAULT_METHOD,
          distance_weight: float = DEFAULT_DISTANCE_WEIGHT, steps: int | None = None,
          tolerance: float = DEFAULT_TOLERANCE, learning_rate: float = 0.05, candidates: int = 32,
          radius: float | None = None, seed: int = 0, hold: tuple[str, ...] | None = None,
          pitch: float | None = None, dynamic: str | None = None) -> Reached:
    """The latent point near ``z0`` whose decoded frame has the ``targets`` descriptor values, holding the
    other descriptors (``hold``; default :data:`DEFAULT_HOLD`) near their start values: each adds its squared
    change, in natural units, to the objective (loudness weighed twice), and the result names those that moved
    more than :data:`HOLD_TOLERANCE` of their spread (``broken``).

    Minimises ``sum_d ((d(z) - t_d) / s_d)^2 + distance_weight |z - z0|^2 / S^2``
    (``s_d`` the natural unit of :func:`descriptor_scales`, ``S^2`` the map's
    :func:`latent_spread`: moving by the map's whole spread costs as much as
    missing a target by a tenth of its spread at the default) and stops as soon
    as every target is within ``tolerance`` of the asked change (see
    :class:`Reached`), so the point stays as close to ``z0`` as the path
    there allows.

    ``method="gradient"``: Adam through the decoder and the differentiable
    descriptors, its step size set from the first gradient (a Gauss-Newton
    estimate of the distance to go, so a small change takes a few small steps
    instead of overshooting), halved whenever the objective grows and grown
    back by a fifth, up to ``learning_rate``, after each step that helps.
    ``method="greedy"``: the paper's neighbourhood search: ``candidates``
    random points within ``radius`` of the current one, move to the best if
    it improves (and double the radius, up to its first), else halve it.

    A conditioned model's frames are decoded at MIDI ``pitch`` and ``dynamic`` (default middle C and mf; one the
    model lacks counts as mf): the values a slider shows and asks for are those of what plays.
    """
    z0, names = _check_start(space, z0), _check_targets(targets)
    dynamic = dynamic if dynamic in space.levels else None
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not (np.isfinite(distance_weight) and distance_weight >= 0):
        raise ParameterError(f"distance_weight must be a non-negative number, got {distance_weight!r}")
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ParameterError(f"tolerance must be a positive number, got {tolerance!r}")
    held = tuple(k for k in (DEFAULT_HOLD if hold is None else check_names(hold) if hold else ()) if k not in names)
    chosen = {k: targets[k] for k in names}
    objective = _Objective(space, z0, chosen, distance_weight, pitch=pitch, dynamic=dynamic)
    path = _search(objective, method, steps=steps, tolerance=tolerance, learning_rate=learning_rate,
                   candidates=candidates, radius=radius, seed=seed)
    scales = descriptor_scales(space)

    def judge(z: np.ndarray) -> tuple[dict[str, np.ndarray], float, dict[str, float]]:
        final = space.describe(space.decode(np.stack([z0, z]), pitch=pitch, dynamic=dynamic))
        achieved = np.array([_natural(k, float(final[k][1])) for k in names])
        drift = {k: abs(_natural(k, float(final[k][1])) - _natural(k, float(final[k][0]))) / scales[k] for k in held}
        return final, float(objective.error(achieved[None])[0]), drift

    final, error, drift = judge(path[-1])
    if held and max(drift.values()) > HOLD_TOLERANCE:  # the targets first; then hold the rest where it can
        holding = _Objective(space, z0, chosen, distance_weight, hold=held, target_weight=TARGET_WEIGHT_WHILE_HOLDING,
                             pitch=pitch, dynamic=dynamic)
        more = _search(holding, method, start=path[-1], steps=steps, tolerance=0.0, learning_rate=learning_rate,
                       candidates=candidates, radius=radius, seed=seed)
        final2, error2, drift2 = judge(more[-1])
        if error2 <= max(tolerance, error) and sum(drift2.values()) < sum(drift.values()):
            path, final, error, drift = np.concatenate([path, more[1:]]), final2, error2, drift2
    z = path[-1]
    broken = tuple(k for k in held if drift[k] > HOLD_TOLERANCE)
    return Reached(z.astype(np.float32), {k: float(final[k][1]) for k in names},
                   {k: float(final[k][0]) for k in names}, {k: float(targets[k]) for k in names}, error,
                   path.astype(np.float32), len(path) - 1, method,
                   {k: (float(final[k][0]), float(final[k][1])) for k in held}, broken)


def _search(objective: _Objective, method: str, *, steps: int | None, tolerance: float, learning_rate: float = 0.05,
            candidates: int = 32, radius: float | None = None, seed: int = 0,
            start: np.ndarray | None = None) -> np.ndarray:
    """The points a search visits from ``start`` (default the objective's ``z0``, from which distance counts)."""
    first = objective.z0 if start is None else np.asarray(start, np.float64)
    if method == "gradient":
        return _gradient(objective, first, steps=150 if steps is None else _steps(steps), tolerance=tolerance,
                         learning_rate=learning_rate)
    return _greedy(objective, first, steps=60 if steps is None else _steps(steps), tolerance=tolerance,
                   candidates=candidates, radius=radius, seed=seed)


def _steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ParameterError(f"steps must be a positive whole number, got {steps!r}")
    return int(steps)


def _check_start(space: TimbreSpace, z0: ArrayLike) -> np.ndarray:
    z0 = np.asarray(z0, np.float64)
    if z0.shape != (space.latent_size,) or not np.all(np.isfinite(z0)):
        raise ParameterError(f"the start point must be {space.latent_size} finite latent values, got shape {z0.shape}")
    return z0


def _check_targets(targets: dict[str, float]) -> tuple[str, ...]:
    if not isinstance(targets, dict) or not targets:
        raise ParameterError("give at least one descriptor target, e.g. {'centroid': 1500.0}")
    names = check_names(tuple(targets))
    for k in names:
        v = targets[k]
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not np.isfinite(v):
            raise ParameterError(f"the {k} target must be a finite number, got {v!r}")
        if k == "flatness" and not 0 < v <= 1:
            raise ParameterError(f"the flatness target must be between 0 and 1, got {v}")
    return names


def _gradient(obj: _Objective, first: np.ndarray, *, steps: int, tolerance: float, learning_rate: float) -> np.ndarray:
    """Adam on the objective; the visited points, the best one last."""
    import torch

    from timbre_explorer.core.signal.descriptors import descriptors

    space = obj.space
    dev = space.device
    target = torch.as_tensor(obj.target, dtype=torch.float64, device=dev)
    scale = torch.as_tensor(obj.scale, dtype=torch.float64, device=dev)
    weights = torch.as_tensor(obj.weights, dtype=torch.float64, device=dev)
    z0 = torch.as_tensor(obj.z0, dtype=torch.float32, device=dev)
    z = torch.as_tensor(first, dtype=torch.float32, device=dev).clone().requires_grad_(True)
    path, best, best_loss, previous, opt = [first], first, np.inf, np.inf, None
    for _ in range(steps):
        with torch.enable_grad():
            mag = space.decode_differentiable(z[None], pitch=obj.pitch, dynamic=obj.dynamic).double()  # float64
            # descriptors of one frame cost nothing
            d = descriptors(mag, space.nsgt, obj.names)
            v = torch.stack([_natural(k, d[k][0]) for k in obj.names])
            loss = (weights * ((v - target) / scale).square()).sum() + obj.weight * (z - z0).double().square().sum()
        values = v.detach().cpu().numpy()
        here = z.detach().cpu().numpy().astype(np.float64)
        if len(path) > 1 or not np.array_equal(here, first):
            path.append(here)
        lv = float(loss.detach())
        if lv < best_loss:
            best, best_loss = here, lv
        if obj.error(values[None])[0] <= tolerance:
            best = here
            break
        (grad,) = torch.autograd.grad(loss, z)
        if opt is None:
            # Gauss-Newton distance to go, |r|^2 / |J^T r| = 2 loss / |grad|; Adam's first step moves every
            # coordinate by about lr, i.e. lr sqrt(latent) in all
            gn = float(grad.norm())
            go = 2 * lv / gn if gn > 0 else learning_rate
            lr = float(np.clip(go / np.sqrt(z.numel()), 1e-4, learning_rate))
            opt = torch.optim.Adam([z], lr=lr, betas=(0.5, 0.9))
        elif lv > previous:
            for g in opt.param_groups:
                g["lr"] *= 0.5
        else:  # a step that helped: let the step size grow back (a valley followed, not a dead end)
            for g in opt.param_groups:
                g["lr"] = min(g["lr"] * 1.2, learning_rate)
        previous = lv
        z.grad = grad
        opt.step()
    if not np.array_equal(path[-1], best):
        path.append(best)
    return np.stack(path)


def _greedy(obj: _Objective, first: np.ndarray, *, steps: int, tolerance: float, candidates: int, radius: float | None,
            seed: int) -> np.ndarray:
    """Greedy neighbourhood search; the points moved to, z0 first."""
    if isinstance(candidates, bool) or not isinstance(candidates, (int, np.integer)) or candidates < 1:
        raise ParameterError(f"candidates must be a positive whole number, got {candidates!r}")
    rng = np.random.default_rng(seed)
    spread = float(np.sqrt(np.mean(np.var(np.asarray(obj.space.notes.z, np.float64), 0))))
    r = 0.5 * spread if radius is None else float(radius)
    if not (np.isfinite(r) and r > 0):
        raise ParameterError(f"radius must be a positive number, got {radius!r}")
    start_r, smallest = r, 1e-4 * r
    here = first
    values = obj.start[None] if first is obj.z0 else obj.values(first[None])
    loss = obj.loss(here, values[0])
    path = [here]
    for _ in range(steps):
        if obj.error(values)[0] <= tolerance or r < smallest:
            break
        direction = rng.standard_normal((candidates, len(here)))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        cand = here + direction * (r * rng.uniform(0.1, 1.0, (candidates, 1)))
        cand_values = obj.values(cand)
        cand_loss = obj.loss(cand, cand_values)
        i = int(np.argmin(cand_loss))
        if cand_loss[i] < loss:
            here, values, loss = cand[i], cand_values[i:i + 1], cand_loss[i]
            path.append(here)
            r = min(2.0 * r, start_r)  # a success widens the search again: a narrow valley is followed, not a dead end
        else:
            r *= 0.5
    return np.stack(path)


# ---------------------------------------------------------------------------------------------- paths
def curve(shape: str, steps: int, start: float, end: float) -> np.ndarray:
    """``steps`` target values over time between ``start`` and ``end``.

    ``rising`` goes from ``start`` to ``end`` in a straight line, ``falling``
    from ``end`` back to ``start`` (so one range serves both directions),
    ``log`` from ``start`` to ``end`` fast then slow, ``exp`` slow then fast,
    ``constant`` stays at ``start``.
    """
    if shape not in CURVES:
        raise ParameterError(f"curve must be one of {', '.join(CURVES)}, got {shape!r}")
    steps = _steps(steps)
    if not (np.isfinite(start) and np.isfinite(end)):
        raise ParameterError(f"curve ends must be finite numbers, got {start} and {end}")
    t = np.linspace(0.0, 1.0, steps)
    f = {"rising": t, "falling": 1.0 - t, "log": np.log1p(9.0 * t) / np.log(10.0),
         "exp": (10.0 ** t - 1.0) / 9.0, "constant": np.zeros_like(t)}[shape]
    return float(start) + f * (float(end) - float(start))


def follow(space: TimbreSpace, z0: ArrayLike, descriptor: str, targets: ArrayLike, *, method: str = DEFAULT_METHOD,
           distance_weight: float = DEFAULT_DISTANCE_WEIGHT, tolerance: float = DEFAULT_TOLERANCE,
           steps: int | None = None, seed: int = 0, pitch: float | None = None,
           dynamic: str | None = None) -> np.ndarray:
    """Latent points ``[n, latent]`` whose decoded ``descriptor`` follows ``targets [n]`` (decoded at ``pitch`` and
    ``dynamic``, as :func:`reach` decodes).

    Each point is reached from the previous one (the first from ``z0``), with
    the distance penalty anchored there: the path moves only as far as the
    descriptor asks, so it sounds continuous. ``tolerance`` is a share of the
    whole curve's range (at least 1 % of the descriptor's spread), not of
    each small step.
    """
    from timbre_explorer.core.synthesis.fields import describe_points

    (name,) = check_names((descriptor,))
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    t = np.asarray(targets, np.float64).reshape(-1)
    if t.size == 0 or not np.all(np.isfinite(t)):
        raise ParameterError("follow needs one or more finite target values")
    for v in (t.min(), t.max()):
        _check_targets({name: float(v)})
    z = _check_start(space, z0)
    scales = descriptor_scales(space)
    natural = _natural(name, t)
    dynamic = dynamic if dynamic in space.levels else None
    start = _natural(name, float(describe_points(space, z[None], (name,), pitch=pitch, dynamic=dynamic)[name][0]))
    change = np.array([max(np.ptp(natural), abs(natural[0] - start))])
    out = np.empty((t.size, z.size), np.float32)
    for i, value in enumerate(t):
        obj = _Objective(space, z, {name: float(value)}, distance_weight, scales=scales, change=change, pitch=pitch,
                         dynamic=dynamic)
        z = _search(obj, method, steps=steps, tolerance=tolerance, seed=seed + i)[-1]
        out[i] = z
    return out


__all__ = ["Reached", "reach", "descriptor_scales", "latent_spread", "CURVES", "curve", "follow", "METHODS", "DEFAULT_METHOD"]
