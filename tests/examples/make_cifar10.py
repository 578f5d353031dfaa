#!/usr/bin/env python3
"""Writes a small, learnable CIFAR-10 in the official binary layout.

Each record: 1 label byte, then 1024 red, 1024 green, 1024 blue bytes (32x32,
row-major). Class c has a bright 8x8 square at a class-specific position over
uniform noise, so a small network learns it quickly.

    make_cifar10.py DIR [images per train batch] [test images] [cifar100]

With "cifar100", the same images in CIFAR-100's layout instead: train.bin
(5 x the images of a batch) and test.bin, each record a coarse and a fine
label byte (fine label = class, 0..9 of the 100) before the pixels.
"""
import os
import random
import sys


# Maps a random byte to noise in 0..95 (bytes.translate runs in C, so a
# 50,000-image split takes seconds).
NOISE = bytes(b % 96 for b in range(256))


def image(label, rng):
    pixels = bytearray(rng.randbytes(3072).translate(NOISE))
    row, col = divmod(label, 4)
    for channel in range(3):
        for y in range(row * 8 + 2, row * 8 + 10):
            for x in range(col * 8, col * 8 + 8):
                pixels[channel * 1024 + y * 32 + x] = 200 + rng.randrange(56)
    return bytes([label]) + bytes(pixels)


def write(path, count, rng, cifar100=False):
    with open(path + ".tmp", "wb") as f:
        for i in range(count):
            record = image(i % 10, rng)
            if cifar100:
                record = bytes([record[0] // 5]) + record
            f.write(record)
    os.replace(path + ".tmp", path)


def main():
    out = sys.argv[1]
    per_batch = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    test = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    if len(sys.argv) > 4 and sys.argv[4] == "cifar100":
        write(os.path.join(out, "train.bin"), 5 * per_batch, rng, True)
        write(os.path.join(out, "test.bin"), test, rng, True)
        return
    for b in range(1, 6):
        write(os.path.join(out, f"data_batch_{b}.bin"), per_batch, rng)
    write(os.path.join(out, "test_batch.bin"), test, rng)


if __name__ == "__main__":
    main()
