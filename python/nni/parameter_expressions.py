"""Samplers for NNI's search-space types, used by :func:`nni.utils.json2parameter`.

Each takes the type's ``_value`` items and then ``random_state``, an object with the
methods of ``numpy.random.RandomState`` it needs (``choice``, ``randint``,
``uniform``, ``normal``); numpy itself is not needed here.
"""

import math

__all__ = ['choice', 'randint', 'uniform', 'quniform', 'loguniform', 'qloguniform',
           'normal', 'qnormal', 'lognormal', 'qlognormal']


def _clip(x, low, high):
    return min(max(x, low), high)


def choice(options, random_state):
    """One of ``options``."""
    return random_state.choice(options)


def randint(lower, upper, random_state):
    """An integer in ``[lower, upper)``."""
    return random_state.randint(lower, upper)


def uniform(low, high, random_state):
    """A float uniform in ``[low, high)``."""
    assert high >= low, 'Upper bound must be larger than lower bound'
    return random_state.uniform(low, high)


def quniform(low, high, q, random_state):
    """``round(uniform / q) * q``, clipped to ``[low, high]``."""
    return _clip(round(uniform(low, high, random_state) / q) * q, low, high)


def loguniform(low, high, random_state):
    """``exp(uniform(log low, log high))``."""
    assert low > 0, 'Lower bound must be positive'
    return math.exp(uniform(math.log(low), math.log(high), random_state))


def qloguniform(low, high, q, random_state):
    """``round(loguniform / q) * q``, clipped to ``[low, high]``."""
    return _clip(round(loguniform(low, high, random_state) / q) * q, low, high)


def normal(mu, sigma, random_state):
    """A normal draw with mean ``mu`` and standard deviation ``sigma``."""
    return random_state.normal(mu, sigma)


def qnormal(mu, sigma, q, random_state):
    """``round(normal / q) * q``."""
    return round(normal(mu, sigma, random_state) / q) * q


def lognormal(mu, sigma, random_state):
    """``exp(normal(mu, sigma))``."""
    return math.exp(normal(mu, sigma, random_state))


def qlognormal(mu, sigma, q, random_state):
    """``round(lognormal / q) * q``."""
    return round(lognormal(mu, sigma, random_state) / q) * q
