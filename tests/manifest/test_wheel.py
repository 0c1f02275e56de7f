"""The Teams app package is built from an installed wheel, not only from a checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_an_installed_wheel_builds_the_teams_app_package(tmp_path: Path) -> None:
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(ROOT)], check=True, timeout=300)
    wheel = next(wheels.glob("opentrace-*.whl"))
    assert {"manifest/manifest.json", "manifest/color.png", "manifest/outline.png"} <= set(
        zipfile.ZipFile(wheel).namelist())
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, timeout=300)
    package = tmp_path / "app.zip"
    # Run from an empty directory with the installed copy first on the path, so nothing of the
    # checkout can stand in for what the wheel lacks.
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = ("import sys, manifest; assert manifest.__file__.startswith(sys.argv[1]), manifest.__file__; "
              "from opentrace.cli import main; sys.exit(main(sys.argv[2:]))")
    result = subprocess.run(
        [sys.executable, "-c", script, str(site), "manifest", "--app-id",
         "1b4e28ba-2fa1-11d2-883f-0016d3cca427", "--domain", "bot.example.com", "-o", str(package)],
        cwd=work, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(zipfile.ZipFile(package).namelist()) == ["color.png", "manifest.json", "outline.png"]
