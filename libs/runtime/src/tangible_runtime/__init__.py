"""The one shared runtime of the Tangible services.

Import submodules directly (`tangible_runtime.outbox`, ...); this package imports nothing
so that `tangible_runtime.domain` stays usable from framework-free domain code.
"""
