"""Background work: the execution engine and the job loop for generation, scoring and regression checks."""
