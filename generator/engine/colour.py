"""Keeping the photo's colours (Gatys et al. 2017, "Controlling Perceptual Factors"): pure functions.

Two ways: transfer only the luminance and put back the photo's chrominance (YCbCr), or first
recolour the painting so its colour mean and covariance match the photo's.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

# ITU-R BT.601 full range (as in JPEG): rows give Y, Cb, Cr from R, G, B in 0-255.
_RGB_TO_YCBCR = np.array([[0.299, 0.587, 0.114],
                          [-0.168736, -0.331264, 0.5],
                          [0.5, -0.418688, -0.081312]])
_OFFSET = np.array([0.0, 128.0, 128.0])


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) RGB in 0-255 -> (..., 3) float Y, Cb, Cr in 0-255."""
    return np.asarray(rgb, dtype=np.float64) @ _RGB_TO_YCBCR.T + _OFFSET


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of `rgb_to_ycbcr` (float, not clipped)."""
    return (np.asarray(ycc, dtype=np.float64) - _OFFSET) @ np.linalg.inv(_RGB_TO_YCBCR).T


def to_uint8(arr: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(arr), 0, 255).astype(np.uint8)


def luminance(img: Image.Image) -> np.ndarray:
    """The Y channel of an RGB image, float (H, W)."""
    return rgb_to_ycbcr(np.asarray(img.convert("RGB")))[..., 0]


def grey(y: np.ndarray) -> Image.Image:
    """A luminance channel as a grey RGB image (what the network sees in luminance-only transfer)."""
    return Image.fromarray(np.repeat(to_uint8(y)[..., None], 3, axis=2), "RGB")


def match_luminance(style_y: np.ndarray, content_y: np.ndarray) -> np.ndarray:
    """Shift and scale the painting's luminance to the photo's mean and standard deviation."""
    sd = style_y.std()
    scale = content_y.std() / sd if sd > 1e-8 else 1.0
    return (style_y - style_y.mean()) * scale + content_y.mean()


def luminance_pair(content: Image.Image, style: Image.Image) -> tuple[Image.Image, Image.Image]:
    """Grey versions of photo and painting for luminance-only transfer (painting's histogram matched)."""
    cy, sy = luminance(content), luminance(style)
    return grey(cy), grey(match_luminance(sy, cy))


def recombine(result: Image.Image, photo: Image.Image) -> Image.Image:
    """The result's luminance with the photo's chrominance (Cb, Cr), back to RGB."""
    photo = photo.convert("RGB")
    if result.size != photo.size:
        result = result.resize(photo.size, Image.LANCZOS)
    ycc = rgb_to_ycbcr(np.asarray(photo))
    ycc[..., 0] = luminance(result)
    return Image.fromarray(to_uint8(ycbcr_to_rgb(ycc)), "RGB")


def _sqrtm(cov: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Symmetric (inverse) square root of a covariance matrix, regularised."""
    vals, vecs = np.linalg.eigh(cov + 1e-5 * np.eye(len(cov)))
    vals = np.clip(vals, 1e-8, None)
    return (vecs * (vals ** (-0.5 if inverse else 0.5))) @ vecs.T


def colour_transform(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, b) with x -> A x + b mapping the source pixels' mean and covariance onto the target's.

    Both arrays are (N, 3). A = C_t^{1/2} C_s^{-1/2} (the symmetric choice of Gatys et al. 2017)."""
    mu_s, mu_t = source.mean(0), target.mean(0)
    a = colour_matrix(np.cov(source, rowvar=False), np.cov(target, rowvar=False))
    return a, mu_t - a @ mu_s


def colour_matrix(cov_s: np.ndarray, cov_t: np.ndarray) -> np.ndarray:
    """A = C_t^{1/2} C_s^{-1/2}: maps colours of covariance cov_s (centred) to covariance cov_t."""
    return _sqrtm(cov_t) @ _sqrtm(cov_s, inverse=True)


def match_colours(style: Image.Image, content: Image.Image) -> Image.Image:
    """The painting recoloured so its RGB mean and covariance equal the photo's."""
    s = np.asarray(style.convert("RGB"), dtype=np.float64)
    c = np.asarray(content.convert("RGB"), dtype=np.float64).reshape(-1, 3)
    a, b = colour_transform(s.reshape(-1, 3), c)
    out = s.reshape(-1, 3) @ a.T + b
    return Image.fromarray(to_uint8(out.reshape(s.shape)), "RGB")


def recolour_to(photo: Image.Image, paintings: list[Image.Image], weights=None) -> Image.Image:
    """The photo recoloured so its RGB mean and covariance equal the paintings' (their pixels pooled
    with the blend's weights): the photo in the painting's palette."""
    weights = weights or (1.0 / len(paintings),) * len(paintings)
    total = sum(weights)
    mean = np.zeros(3)
    second = np.zeros((3, 3))
    for painting, w in zip(paintings, weights):
        mu, cov = stats(painting)
        mean += w / total * mu
        second += w / total * (cov + np.outer(mu, mu))
    cov_t = second - np.outer(mean, mean)
    px = np.asarray(photo.convert("RGB"), dtype=np.float64)
    mu_s, cov_s = stats(photo)
    out = (px.reshape(-1, 3) - mu_s) @ colour_matrix(cov_s, cov_t).T + mean
    return Image.fromarray(to_uint8(out.reshape(px.shape)), "RGB")


def stats(img: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """RGB mean (3,) and covariance (3, 3) of an image's pixels."""
    px = np.asarray(img.convert("RGB"), dtype=np.float64).reshape(-1, 3)
    return px.mean(0), np.cov(px, rowvar=False)
