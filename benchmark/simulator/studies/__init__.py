"""Studies of the simulator itself (not used to build the benchmark): the shift probe, the
calibration against real label statistics, the picture gallery."""
