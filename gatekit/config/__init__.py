"""The typed gatekit config model: the single source of truth every target renders."""

from gatekit.config.environment import Environment
from gatekit.config.errors import ConfigError, Problem
from gatekit.config.loader import default_config_dir, environment_names, load_all, load_environment
from gatekit.config.secrets import SecretRef
from gatekit.config.timings import DrainTimings

__all__ = [
    "ConfigError",
    "DrainTimings",
    "Environment",
    "Problem",
    "SecretRef",
    "default_config_dir",
    "environment_names",
    "load_all",
    "load_environment",
]
