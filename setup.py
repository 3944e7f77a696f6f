"""Packaging for litellm_sync: ships the top-level providers.yaml inside the wheel."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithSpec(build_py):
    """Copy the top-level providers.yaml into the built package so installs carry the spec."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "litellm_sync" / "providers.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / "providers.yaml", target)


setup(cmdclass={"build_py": BuildPyWithSpec})
