"""`videos:DIR`, video files decoded with PyAV, against `frames:DIR`, its twin."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from common.errors import DataError
from pipelines import cli
from pipelines.inference import predict
from tasks.classify.config import PRESETS
from tasks.classify.modalities.video import Video, read_video, write_video
from tasks.row_file import RowFile


def _clips(rng, count: int, frames: int = 9) -> list[np.ndarray]:
    return [rng.integers(0, 255, (frames, 20, 28, 3), np.uint8) for _ in range(count)]


def _write_twins(folder, clips_by_class: dict, suffix: str = ".avi") -> None:
    """Each clip as a folder of PNG frames under `folder/frames` and as a video file
    under `folder/videos`."""
    for name, clips in clips_by_class.items():
        (folder / "videos" / name).mkdir(parents=True)
        for k, clip in enumerate(clips):
            frames = folder / "frames" / name / f"clip{k}"
            frames.mkdir(parents=True)
            for t, pixels in enumerate(clip):
                Image.fromarray(pixels).save(frames / f"{t:03d}.png")
            write_video(folder / "videos" / name / f"clip{k}{suffix}", clip)


def _video(source: str, workdir) -> Video:
    cfg = PRESETS["tiny"]
    return Video(dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, source=source)),
                 workdir)  # fmt: skip


def test_videos_read_as_their_frames_do(tmp_path):
    rng = np.random.default_rng(0)
    _write_twins(tmp_path, {"jump": _clips(rng, 5), "walk": _clips(rng, 5)})
    from_frames = _video(f"frames:{tmp_path / 'frames'}", tmp_path / "run")
    from_videos = _video(f"videos:{tmp_path / 'videos'}", tmp_path / "run")
    frames, videos = (m.load(("train", "val", "test")) for m in (from_frames, from_videos))
    assert frames.classes == videos.classes == ("jump", "walk")
    for split in ("train", "val", "test"):  # lossless files: the same pixels, the same split
        np.testing.assert_array_equal(frames.splits[split].x, videos.splits[split].x)
        np.testing.assert_array_equal(frames.splits[split].y, videos.splits[split].y)
    assert len(from_videos.files()) == 10 and all(p.suffix == ".avi" for p in from_videos.files())


def test_clips_read_from_their_file_batch_as_the_clips_in_memory_did(tmp_path):
    """The same batches in the same order, epoch after epoch, as the in-memory pipeline
    this replaced (a resumed run depends on it), with no clip held in memory."""
    cfg = PRESETS["tiny"]
    cfg = dataclasses.replace(cfg, video=dataclasses.replace(cfg.video, augment=False))
    video = Video(cfg, tmp_path)
    train = video.load(("train",)).splits["train"]
    assert isinstance(train.x, RowFile) and not list((tmp_path / "cache").iterdir())
    clips = np.asarray(train.x)  # (n, frames, size, size, 3)
    twin = tf.data.Dataset.from_tensor_slices((clips, train.y))
    twin = twin.shuffle(len(clips), seed=cfg.train.seed).batch(cfg.train.batch_size)
    streamed = video.dataset(train, training=True)
    for _ in range(2):  # each epoch a new order
        pairs = list(zip(streamed, twin, strict=True))
        for (x, y), (want_x, want_y) in pairs:
            np.testing.assert_array_equal(x, tf.cast(want_x, tf.float32))
            np.testing.assert_array_equal(y, want_y)
    assert len(pairs) > 1


def test_a_clip_keeps_only_the_frames_it_takes(tmp_path):
    count = 301
    shade = (np.arange(count) % 251).astype(np.uint8)  # frame t is all t % 251
    clip = np.broadcast_to(shade[:, None, None, None], (count, 8, 8, 3)).copy()
    write_video(tmp_path / "long.avi", clip)
    taken = read_video(tmp_path / "long.avi", frames=5, size=8)
    assert taken[:, 0, 0, 0].tolist() == [0, 75, 150, 225, 300 % 251]
    write_video(tmp_path / "short.avi", clip[:3])
    assert read_video(tmp_path / "short.avi", frames=5, size=8)[:, 0, 0, 0].tolist() == [
        0, 0, 1, 2, 2]  # fmt: skip
    write_video(tmp_path / "lossy.mp4", np.repeat(clip[:40:8], 4, axis=1))
    assert read_video(tmp_path / "lossy.mp4", frames=2, size=8).shape == (2, 8, 8, 3)
    over = r"lossy.mp4: 8x32 pixels a frame is over video.max_pixels=100$"
    with pytest.raises(DataError, match=over):
        read_video(tmp_path / "lossy.mp4", frames=2, size=8, max_pixels=100)


@pytest.mark.parametrize("content", [b"", b"not a video at all", b"RIFF\x00\x00AVI junk"])
def test_a_file_that_is_not_a_video_is_named(tmp_path, content):
    (tmp_path / "bad.avi").write_bytes(content)
    with pytest.raises(DataError, match=f"{tmp_path / 'bad.avi'}: "):
        read_video(tmp_path / "bad.avi", frames=4, size=8)


@pytest.mark.slow
def test_videos_train_and_predict_reads_files_as_training_did(tmp_path):
    rng = np.random.default_rng(1)
    bright = [np.clip(c.astype(int) + 80, 0, 255).astype(np.uint8) for c in _clips(rng, 6)]
    _write_twins(tmp_path, {"dark": [c // 3 for c in _clips(rng, 6)], "bright": bright})
    workdir = tmp_path / "run"
    cli.main(["train", "--task", "classify", "--preset", "tiny", "--workdir", str(workdir),
              "--data", f"videos:{tmp_path / 'videos'}"])  # fmt: skip
    assert json.loads((workdir / "metrics.json").read_text())["test"]["examples"] > 0
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    given = [str(tmp_path / "videos" / "dark" / "clip0.avi"), str(tmp_path / "broken.mp4"),
             str(tmp_path / "frames" / "dark" / "clip0"),
             str(tmp_path / "videos" / "bright" / "clip1.avi")]  # fmt: skip
    records = list(predict(workdir / "export", given, batch_size=3))
    assert [r["input"] for r in records] == given
    assert "not a readable video" in records[1]["error"]
    # a clip read from its file and from its frames: the same input, the same answer
    assert records[0]["probabilities"] == records[2]["probabilities"]
    assert {records[0]["label"], records[3]["label"]} <= {"dark", "bright"}
