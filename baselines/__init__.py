"""Reference models for Galaxy Sommelier: DINOv2 regressors and simple baselines."""
