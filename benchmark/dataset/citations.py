"""BibTeX of the benchmark and of every upstream Galaxy Zoo release it can be built from.

The dataset card and `croissant.json` cite exactly the releases a build used, so the entries
live here once. Fields are as published (ADS / the journals); where a field could not be
verified it is left out rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    """One upstream release: who to credit (`label`), for what, and its BibTeX."""

    label: str
    what: str
    bibtex: str


WILLETT_2013 = Release("Willett et al. 2013", "Galaxy Zoo 2 votes on SDSS images", r"""
@article{2013MNRAS.435.2835W,
  author = {Willett, Kyle W. and Lintott, Chris J. and Bamford, Steven P. and Masters, Karen L. and
            Simmons, Brooke D. and Casteels, Kevin R. V. and Edmondson, Edward M. and
            Fortson, Lucy F. and Kaviraj, Sugata and Keel, William C. and Melvin, Thomas and
            Nichol, Robert C. and Raddick, M. Jordan and Schawinski, Kevin and
            Simpson, Robert J. and Skibba, Ramin A. and Smith, Arfon M. and Thomas, Daniel},
  title = {{Galaxy Zoo 2: detailed morphological classifications for 304 122 galaxies from the
           Sloan Digital Sky Survey}},
  journal = {Monthly Notices of the Royal Astronomical Society},
  year = {2013},
  volume = {435},
  number = {4},
  pages = {2835--2860},
  doi = {10.1093/mnras/stt1458},
  eprint = {1308.3496},
  archivePrefix = {arXiv}
}""")

HART_2016 = Release("Hart et al. 2016", "the GZ2 debiased vote table", r"""
@article{2016MNRAS.461.3663H,
  author = {Hart, Ross E. and Bamford, Steven P. and Willett, Kyle W. and Masters, Karen L. and
            Cardamone, Carolin and Lintott, Chris J. and Mackay, Robert J. and
            Nichol, Robert C. and Rosslowe, Christopher K. and Simmons, Brooke D. and
            Smethurst, Rebecca J.},
  title = {{Galaxy Zoo: comparing the demographics of spiral arm number and a new method for
           correcting redshift bias}},
  journal = {Monthly Notices of the Royal Astronomical Society},
  year = {2016},
  volume = {461},
  number = {4},
  pages = {3663--3682},
  doi = {10.1093/mnras/stw1588},
  eprint = {1607.01019},
  archivePrefix = {arXiv}
}""")

WALMSLEY_2022 = Release("Walmsley et al. 2022", "Galaxy Zoo DECaLS votes", r"""
@article{2022MNRAS.509.3966W,
  author = {Walmsley, Mike and Lintott, Chris and G{\'e}ron, Tobias and Kruk, Sandor and
            Krawczyk, Coleman and Willett, Kyle W. and Bamford, Steven and Kelvin, Lee S. and
            Fortson, Lucy and Gal, Yarin and Keel, William and Masters, Karen L. and
            Mehta, Vihang and Simmons, Brooke D. and Smethurst, Rebecca and Smith, Lewis and
            Baeten, Elisabeth M. and Macmillan, Christine},
  title = {{Galaxy Zoo DECaLS: Detailed visual morphology measurements from volunteers and deep
           learning for 314 000 galaxies}},
  journal = {Monthly Notices of the Royal Astronomical Society},
  year = {2022},
  volume = {509},
  number = {3},
  pages = {3966--3988},
  doi = {10.1093/mnras/stab2093},
  eprint = {2102.08414},
  archivePrefix = {arXiv}
}""")

WALMSLEY_2023 = Release("Walmsley et al. 2023",
                        "Galaxy Zoo DESI, whose `mwalmsley/gz_desi` release holds the DECaLS votes",
                        r"""
@article{2023MNRAS.526.4768W,
  author = {Walmsley, Mike and others},
  title = {{Galaxy Zoo DESI: Detailed morphology measurements for 8.7M galaxies in the DESI
           Legacy Imaging Surveys}},
  journal = {Monthly Notices of the Royal Astronomical Society},
  year = {2023},
  volume = {526},
  number = {3},
  pages = {4768},
  doi = {10.1093/mnras/stad2919},
  eprint = {2309.11425},
  archivePrefix = {arXiv}
}""")

MASTERS_2024 = Release("Masters et al. 2024", "Galaxy Zoo UKIDSS votes", r"""
@article{Masters2024UKIDSS,
  author = {Masters, Karen L. and Galloway, Melanie and Fortson, Lucy and Lintott, Chris J. and
            Read, Mike and Scarlata, Claudia and Simmons, Brooke and Walmsley, Mike and
            Willett, Kyle},
  title = {{Galaxy Zoo: Morphologies based on UKIDSS NIR Imaging for 71,052 Galaxies}},
  journal = {Research Notes of the AAS},
  year = {2024},
  doi = {10.3847/2515-5172/ad6f10},
  eprint = {2408.10160},
  archivePrefix = {arXiv}
}""")

#: The releases each survey's votes and images come from, whatever the source format.
BY_SURVEY: dict[str, tuple[Release, ...]] = {
    "sdss": (WILLETT_2013, HART_2016),
    "decals": (WALMSLEY_2022,),
    "ukidss": (MASTERS_2024,),
}
#: The Hugging Face DECaLS release (`mwalmsley/gz_desi`) is the GZ DESI paper's data release.
HF_DECALS = WALMSLEY_2023


def benchmark_entry(version: str, repo: str) -> str:
    """BibTeX of this dataset version (no paper yet: the Hub repo is what to cite)."""
    key = "galaxy_sommelier_" + version.replace(".", "_")
    return (f"@misc{{{key},\n"
            f"  title = {{{{Galaxy Sommelier}}: galaxy morphology on a survey never trained on "
            f"(dataset version {version})}},\n"
            f"  howpublished = {{\\url{{https://huggingface.co/datasets/{repo}}}}},\n"
            f"  version = {{{version}}}\n}}")


def releases_used(survey_kinds: dict[str, set[str]]) -> list[Release]:
    """Upstream releases of a build, SDSS first: `survey_kinds` maps each
    survey present to the source kinds it was read from (GZ DESI only where DECaLS came
    from the Hugging Face release)."""
    out: list[Release] = []
    for survey, releases in BY_SURVEY.items():
        if survey in survey_kinds:
            out += releases
            if survey == "decals" and "hf" in survey_kinds[survey]:
                out.append(HF_DECALS)
    return out


def bibliography(version: str, repo: str, releases: list[Release]) -> str:
    """The benchmark's entry, then every upstream release used."""
    return "\n\n".join([benchmark_entry(version, repo)] + [r.bibtex.strip() for r in releases])
