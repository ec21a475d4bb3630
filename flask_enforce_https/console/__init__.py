"""A web console for administrators: the security pages of the seed's
LifeTime and Service Center, for the environment and each application.

See :doc:`/console`.
"""

from __future__ import annotations
