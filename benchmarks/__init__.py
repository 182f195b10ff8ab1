"""The benchmark lab of mmfasternet (README.md): not part of the wheel."""
