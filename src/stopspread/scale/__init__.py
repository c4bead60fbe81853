"""Work spread over many machines: batch scans on a Dask cluster (:mod:`.cluster`)."""
