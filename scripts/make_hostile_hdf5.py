#!/usr/bin/env python3
"""Write HDF5 files whose datasets keep their values outside the file, for convbank's import tests.

Run from the repository root with h5py (the Keras goldens' Python stack):

    python3 scripts/make_hostile_hdf5.py

Tests/ConvBankTests/Fixtures/keras/external_storage.h5   dataset "conv/kernel" (3, 3, 1, 1) uint8 whose raw data is
                                                          /etc/passwd's first 9 bytes (HDF5 external storage).
Tests/ConvBankTests/Fixtures/keras/virtual.h5            dataset "conv/kernel" (3, 3, 1, 1) float32, a virtual dataset
                                                          mapping /etc/convbank-absent.h5's "/k".
convbank must refuse both (one error line, exit 64) instead of reading another file on disk.
Tests/ConvBankTests/Fixtures/keras/traversal.keras       stack.keras with its layer "relu1" renamed "../../escaped":
                                                          its maps must stay inside the output folder.
"""
import pathlib

import h5py

out = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ConvBankTests" / "Fixtures" / "keras"
out.mkdir(parents=True, exist_ok=True)

with h5py.File(out / "external_storage.h5", "w") as f:
    f.create_dataset("conv/kernel", shape=(3, 3, 1, 1), dtype="u1", external=[("/etc/passwd", 0, 9)])

with h5py.File(out / "virtual.h5", "w") as f:
    layout = h5py.VirtualLayout(shape=(3, 3, 1, 1), dtype="f4")
    layout[:] = h5py.VirtualSource("/etc/convbank-absent.h5", "k", shape=(3, 3, 1, 1))
    f.create_virtual_dataset("conv/kernel", layout, fillvalue=7)

# A .keras whose layer name would lead out of the output folder if used as a folder name.
import zipfile  # noqa: E402

with zipfile.ZipFile(out / "stack.keras") as source, zipfile.ZipFile(out / "traversal.keras", "w") as target:
    for item in source.infolist():
        data = source.read(item.filename)
        if item.filename == "config.json":
            assert b'"relu1"' in data
            data = data.replace(b'"relu1"', b'"../../escaped"')
        target.writestr(item, data)
