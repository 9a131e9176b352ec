"""archspace: design, search and analyze neural-network design spaces.

Data flows one way: space -> architecture -> evaluation -> trial store -> analysis/report.
"""

from archspace.arch import ArchSpec, arch_from_dict, arch_from_json
from archspace.errors import ArchspaceError, DataError, InvalidArchitecture, UsageError

__version__ = "0.1.0"

__all__ = [
    "ArchSpec",
    "ArchspaceError",
    "DataError",
    "InvalidArchitecture",
    "UsageError",
    "arch_from_dict",
    "arch_from_json",
    "__version__",
]
