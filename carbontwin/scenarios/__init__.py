"""Carbon-peak scenario studies: drivers, projections, Monte Carlo, decoupling."""
