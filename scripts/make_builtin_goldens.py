#!/usr/bin/env python3
"""Regenerate the independent references for convbank's built-in banks:
Tests/ConvBankTests/Fixtures/builtins/builtins.json (read by Tests/ConvBankTests/BuiltinBankTests.swift).

Run from the repository root:

    python3 scripts/make_builtin_goldens.py

Needs (versions used to produce the committed fixture):
    Python 3.11, numpy 2.4.6, scipy 1.17.1
    opencv-python-headless 5.0.0.93   (pip install opencv-python-headless)

Nothing here imports convbank or copies its formulas: every kernel comes from a library routine applied to a
unit impulse (scipy.ndimage), from OpenCV's own kernel builders, or from a literal/numpy construction written
independently, and the outputs are whole filterings by scipy/OpenCV with edge replication
(scipy mode='nearest', OpenCV BORDER_REPLICATE), which is convbank's `replicate` padding mode.

What it writes — one JSON object:

  "kernels": list of {"bank": built-in name as passed to `convbank banks`, "filter": filter name,
                      "shape": [kh, kw], "weights": [kh*kw floats, row-major; row 0 = top, cross-correlation
                      orientation], "reference": how it was made}
      gaussian (sigma 1, 2)        scipy.ndimage.gaussian_filter(impulse, sigma, radius=ceil(3 sigma), mode='constant');
                                   checked against outer(cv2.getGaussianKernel) in this script
      log (sigma 1.4, 2)           scipy.ndimage.gaussian_laplace(impulse, sigma, radius=ceil(3 sigma))
      dog (defaults, sigma=2,k=2)  gaussian_filter(sigma) - gaussian_filter(k sigma), both radius ceil(3 k sigma)
      unsharp (defaults, amount=2) (1 + amount) impulse - amount gaussian_filter(impulse, sigma, radius=ceil(3 sigma))
      gabor (defaults and a variant) cv2.getGaborKernel((s, s), 0.56 lambda, theta, lambda, gamma, psi, ktype=cv2.CV_64F),
                                   s = 2 ceil(3 * 0.56 lambda) + 1, theta = pi t / orientations, lambda doubling
      kirsch                       the north kernel rotated around its ring with numpy
      sobel, scharr                cv2.getDerivKernels(1, 0, 3 / cv2.FILTER_SCHARR), outer product
      laplacian                    4-neighbour: cv2.Laplacian of an impulse (ksize=1); 8-neighbour: literal
      binomial (5, 7)              scipy.special.comb(n-1, i) / 2**(n-1), outer product
  "outputs": list of {"bank", "input": {"shape": [H, W, C], "values": H*W*C interleaved floats 0..255},
                      "maps": {filter name: H*W floats, row-major}, "reference": how}
      gaussian (sigma 1)   scipy.ndimage.gaussian_filter(img, 1, radius=3, mode='nearest')
      sobel                scipy.ndimage.sobel(img, axis=1 / axis=0, mode='nearest')
      log                  scipy.ndimage.gaussian_laplace(img, 1.4, radius=5, mode='nearest')
      gabor                cv2.filter2D(img, cv2.CV_64F, getGaborKernel(...), borderType=cv2.BORDER_REPLICATE)
      luma-edges           sum over R, G, B of weight_c * scipy.ndimage.sobel(img_c, mode='nearest')
      opponent             numpy on the channels
All computation is float64; the Swift side computes in float32 and compares with a relative tolerance.
"""
import json
import math
import os

import cv2
import numpy as np
import scipy.ndimage as ndi
from scipy.special import comb

OUT = os.path.join("Tests", "ConvBankTests", "Fixtures", "builtins", "builtins.json")


def impulse(radius):
    d = np.zeros((2 * radius + 1, 2 * radius + 1))
    d[radius, radius] = 1.0
    return d


def gaussian(sigma, radius=None):
    r = math.ceil(3 * sigma) if radius is None else radius
    k = ndi.gaussian_filter(impulse(r), sigma, radius=r, mode="constant")
    g = cv2.getGaussianKernel(2 * r + 1, sigma, ktype=cv2.CV_64F)
    assert np.allclose(k, g @ g.T, rtol=0, atol=1e-15), "scipy and OpenCV Gaussians disagree"
    return k


def log_kernel(sigma):
    r = math.ceil(3 * sigma)
    return ndi.gaussian_laplace(impulse(r), sigma, radius=r, mode="constant")


def dog(sigma, k):
    r = math.ceil(3 * k * sigma)
    return gaussian(sigma, r) - gaussian(k * sigma, r)


def unsharp(sigma, amount):
    r = math.ceil(3 * sigma)
    return (1 + amount) * impulse(r) - amount * gaussian(sigma)


def gabor_bank(orientations=4, wavelengths=2, wavelength=4.0, gamma=0.5, psi=0.0):
    out = []
    for w in range(wavelengths):
        lam = wavelength * 2 ** w
        sigma = 0.56 * lam
        s = 2 * math.ceil(3 * sigma) + 1
        for t in range(orientations):
            k = cv2.getGaborKernel((s, s), sigma, math.pi * t / orientations, lam, gamma, psi, ktype=cv2.CV_64F)
            out.append((t, 180 * t / orientations, lam, k))
    return out


def short(v):
    s = "%.2f" % v
    return s.rstrip("0").rstrip(".")


def kirsch():
    # The 8 ring positions of a 3x3 kernel, clockwise from the top-left corner.
    ring = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    north = [5, 5, 5, -3, -3, -3, -3, -3]  # values along the ring for "n"
    names = ["n", "ne", "e", "se", "s", "sw", "w", "nw"]
    result = []
    for step, name in enumerate(names):
        k = np.zeros((3, 3))
        for pos, (i, j) in enumerate(ring):
            k[i, j] = north[(pos - step) % 8]
        result.append((name, k))
    return result


def binomial(n):
    row = np.array([comb(n - 1, i, exact=True) for i in range(n)], dtype=np.float64) / 2 ** (n - 1)
    return np.outer(row, row)


def entry(bank, name, k, ref):
    k = np.asarray(k, dtype=np.float64)
    return {"bank": bank, "filter": name, "shape": list(k.shape), "weights": [float(v) for v in k.ravel()], "reference": ref}


def main():
    kernels = []
    for sigma, bank, name in [(1, "gaussian", "gaussian"), (2, "gaussian:sigma=2", "gaussian_sigma2")]:
        kernels.append(entry(bank, name, gaussian(sigma), "scipy.ndimage.gaussian_filter(impulse) == outer(cv2.getGaussianKernel)"))
    for sigma, bank, name in [(1.4, "log", "log"), (2, "log:sigma=2", "log_sigma2")]:
        kernels.append(entry(bank, name, log_kernel(sigma), "scipy.ndimage.gaussian_laplace(impulse)"))
    for sigma, k, bank, name in [(1, 1.6, "dog", "dog"), (2, 2, "dog:sigma=2,k=2", "dog_sigma2_k2")]:
        kernels.append(entry(bank, name, dog(sigma, k), "gaussian_filter(impulse, s) - gaussian_filter(impulse, k s), radius ceil(3 k s)"))
    for sigma, amount, bank, name in [(1, 1, "unsharp", "unsharp"), (1, 2, "unsharp:amount=2", "unsharp_amount2")]:
        kernels.append(entry(bank, name, unsharp(sigma, amount), "(1 + amount) impulse - amount gaussian_filter(impulse)"))
    for bank, params in [("gabor", {}), ("gabor:orientations=6,wavelengths=1,wavelength=3,gamma=1,psi=0.5",
                                          dict(orientations=6, wavelengths=1, wavelength=3.0, gamma=1.0, psi=0.5))]:
        tag = "_gamma1_psi0.5" if params else ""
        for _, deg, lam, k in gabor_bank(**params):
            kernels.append(entry(bank, "gabor_t%s_l%s%s" % (short(deg), short(lam), tag), k, "cv2.getGaborKernel(ktype=CV_64F)"))
    for name, k in kirsch():
        kernels.append(entry("kirsch", "kirsch_" + name, k, "north kernel rotated around the ring (numpy)"))
    kx, ky = cv2.getDerivKernels(1, 0, 3, ktype=cv2.CV_64F)
    kernels.append(entry("sobel", "sobel_x", np.outer(ky, kx), "cv2.getDerivKernels(1, 0, 3)"))
    kernels.append(entry("sobel", "sobel_y", np.outer(kx, ky), "cv2.getDerivKernels(1, 0, 3), transposed"))
    kx, ky = cv2.getDerivKernels(1, 0, cv2.FILTER_SCHARR, ktype=cv2.CV_64F)
    kernels.append(entry("scharr", "scharr_x", np.outer(ky, kx), "cv2.getDerivKernels(1, 0, FILTER_SCHARR)"))
    kernels.append(entry("scharr", "scharr_y", np.outer(kx, ky), "cv2.getDerivKernels(1, 0, FILTER_SCHARR), transposed"))
    lap = cv2.Laplacian(impulse(1), cv2.CV_64F, ksize=1, borderType=cv2.BORDER_CONSTANT)
    kernels.append(entry("laplacian", "laplacian4", lap, "cv2.Laplacian(impulse, ksize=1)"))
    kernels.append(entry("laplacian", "laplacian8", np.ones((3, 3)) - 9 * impulse(1), "ones - 9 impulse"))
    for n, bank, name in [(5, "binomial", "binomial"), (7, "binomial:size=7", "binomial_size7")]:
        kernels.append(entry(bank, name, binomial(n), "scipy.special.comb(n-1, i) / 2**(n-1), outer"))
    kernels.append(entry("box:size=4", "box_size4", np.full((4, 4), 1 / 16), "1/16 everywhere"))

    rng = np.random.default_rng(20240607)
    gray = rng.integers(0, 256, size=(13, 11)).astype(np.float64)
    rgb = rng.integers(0, 256, size=(9, 10, 3)).astype(np.float64)

    def gray_input():
        return {"shape": [gray.shape[0], gray.shape[1], 1], "values": [float(v) for v in gray.ravel()]}

    def rgb_input():
        return {"shape": list(rgb.shape), "values": [float(v) for v in rgb.ravel()]}

    def maps(d):
        return {name: [float(v) for v in np.asarray(m, dtype=np.float64).ravel()] for name, m in d.items()}

    outputs = [
        {"bank": "gaussian", "input": gray_input(), "reference": "scipy.ndimage.gaussian_filter(mode='nearest', radius=3)",
         "maps": maps({"gaussian": ndi.gaussian_filter(gray, 1, radius=3, mode="nearest")})},
        {"bank": "sobel", "input": gray_input(), "reference": "scipy.ndimage.sobel(mode='nearest')",
         "maps": maps({"sobel_x": ndi.sobel(gray, axis=1, mode="nearest"), "sobel_y": ndi.sobel(gray, axis=0, mode="nearest")})},
        {"bank": "log", "input": gray_input(), "reference": "scipy.ndimage.gaussian_laplace(mode='nearest', radius=5)",
         "maps": maps({"log": ndi.gaussian_laplace(gray, 1.4, radius=5, mode="nearest")})},
        {"bank": "gabor", "input": gray_input(), "reference": "cv2.filter2D(CV_64F, BORDER_REPLICATE) with cv2.getGaborKernel",
         "maps": maps({"gabor_t%s_l%s" % (short(deg), short(lam)): cv2.filter2D(gray, cv2.CV_64F, k, borderType=cv2.BORDER_REPLICATE)
                       for _, deg, lam, k in gabor_bank()})},
        {"bank": "luma-edges", "input": rgb_input(), "reference": "sum_c w_c scipy.ndimage.sobel(channel c, mode='nearest')",
         "maps": maps({"sobel_x": sum(w * ndi.sobel(rgb[:, :, c], axis=1, mode="nearest") for c, w in enumerate([0.299, 0.587, 0.114])),
                       "sobel_y": sum(w * ndi.sobel(rgb[:, :, c], axis=0, mode="nearest") for c, w in enumerate([0.299, 0.587, 0.114]))})},
        {"bank": "opponent", "input": rgb_input(), "reference": "numpy on the channels",
         "maps": maps({"rg": rgb[:, :, 0] - rgb[:, :, 1], "by": rgb[:, :, 2] - (rgb[:, :, 0] + rgb[:, :, 1]) / 2,
                       "lum": rgb.sum(axis=2) / 3})},
    ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"generator": "scripts/make_builtin_goldens.py", "kernels": kernels, "outputs": outputs}, f, indent=1)
        f.write("\n")
    print("wrote %s: %d kernels, %d outputs" % (OUT, len(kernels), len(outputs)))


if __name__ == "__main__":
    main()
