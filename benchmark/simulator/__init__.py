"""The survey simulator: one galaxy population seen by SDSS, DECaLS and UKIDSS.

It writes upstream-style Galaxy Zoo releases (images, ids, coordinates, votes) so that the
real ingestion path is what consumes them; the truth table and id map are kept apart. Shifts
between the surveys (resolution, noise, wavelength, volunteer behaviour) can be switched off
one at a time. Entry point: `simulate` (`benchmark.simulator.writer`).
"""
