"""Prefect flow, deployment and Dask scale-out for cleancorpus.

A package of its own so that ``cleancorpus`` never imports Prefect, while the flow is still
installed with the project: ``cleancorpus serve`` and Dask workers import it by module name,
wherever they run. Nothing is imported here, so ``cleancorpus_flows.env`` can set Prefect's
settings before ``cleancorpus_flows.flow`` imports Prefect.
"""
