"""Host and process metrics: sources, the rolling frame, the sampler, charts and export."""
