"""The recorder fed by real encoders' RTP (no network): files open, align and last right."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from core.recording import Recorder, RecordingResult
from tests.core.recording.synthetic import H264, SyntheticPublisher


def probe(path: Path) -> dict[str, object]:
    """What av reads back: tracks, picture size, duration, decoded frame counts."""
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        first: dict[str, float] = {}
        pictures = samples = 0
        width = height = 0
        for packet in container.demux():
            if packet.pts is None or packet.stream.type not in ("video", "audio"):
                continue
            kind = packet.stream.type
            first.setdefault(kind, float(packet.pts * packet.time_base))
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    pictures += 1
                    width, height = frame.width, frame.height
                elif isinstance(frame, av.AudioFrame):
                    samples += frame.samples
        return {
            "codecs": (
                video.codec_context.name if video else None,
                audio.codec_context.name if audio else None,
            ),
            "duration": (container.duration or 0) / 1_000_000,
            "size": (width, height),
            "pictures": pictures,
            "audio_seconds": samples / 48000,
            "first": first,
        }


async def record(
    publisher: SyntheticPublisher, tmp_path: Path, reorder_window: int = 64, **play: object
) -> RecordingResult:
    recorder = Recorder(publisher, tmp_path, sync_wait=5.0, reorder_window=reorder_window)
    recorder.start()
    await publisher.play(**play)  # type: ignore[arg-type]
    return await recorder.stop()


def media_seconds(seconds: float, fps: int = 15) -> float:
    """Media time of ``seconds`` of video, counted to the end of its last picture."""
    interval = round(1 / (fps * 0.02)) * 0.02
    return round(seconds / interval) * interval


async def test_vp8_opus_to_webm(tmp_path: Path) -> None:
    publisher = SyntheticPublisher()
    result = await record(publisher, tmp_path, seconds=4.0, audio_delay=0.3)

    assert result.path.suffix == ".webm"
    info = probe(result.path)
    assert info["codecs"] == ("vp8", "opus")
    assert info["size"] == (320, 240)
    expected = media_seconds(4.0)
    assert abs(info["duration"] - expected) / expected < 0.02  # type: ignore[operator]
    assert abs(result.duration_ms / 1000 - expected) / expected < 0.02
    assert info["pictures"] == result.frames["video"] > 60
    # audio started 0.3 s after video in media time, and the sender reports say so
    first = info["first"]
    assert isinstance(first, dict)
    assert abs(first["audio"] - 0.3) < 0.03
    assert result.first_frame_sender_time == pytest.approx(publisher.clock_start, abs=0.01)
    assert result.size_bytes == result.path.stat().st_size


async def test_packet_loss_keeps_the_file_decodable(tmp_path: Path) -> None:
    publisher = SyntheticPublisher(loss=0.02, seed=3)
    # Played much faster than real time, so the recorder's arrival clock cannot tell a lost
    # packet from a late one: a small reorder window stands in for its 100 ms delay.
    result = await record(publisher, tmp_path, reorder_window=4, seconds=4.0)

    assert publisher.video is not None and publisher.video.dropped > 0
    info = probe(result.path)
    assert info["codecs"] == ("vp8", "opus")
    expected = media_seconds(4.0)
    assert abs(info["duration"] - expected) / expected < 0.02  # type: ignore[operator]
    # every lost video packet costs frames until the keyframe the recorder asked for
    assert publisher.keyframe_requests >= 2
    assert result.lost_packets > 0
    assert info["pictures"] == result.frames["video"] > 30


async def test_paused_publisher_leaves_a_gap_of_the_same_length(tmp_path: Path) -> None:
    publisher = SyntheticPublisher()
    result = await record(publisher, tmp_path, seconds=5.0, pauses=((1.5, 3.5),))

    info = probe(result.path)
    expected = media_seconds(5.0)
    assert abs(info["duration"] - expected) / expected < 0.02  # type: ignore[operator]
    # no pictures were made during the pause, and the audio has a hole of 2 s
    assert info["pictures"] == result.frames["video"]
    assert abs(info["audio_seconds"] - 3.0) < 0.1  # type: ignore[operator]


async def test_h264_to_mp4(tmp_path: Path) -> None:
    publisher = SyntheticPublisher(video=H264)
    result = await record(publisher, tmp_path, seconds=3.0)

    assert result.path.suffix == ".mp4"
    info = probe(result.path)
    assert info["codecs"] == ("h264", "opus")
    assert info["size"] == (320, 240)
    expected = media_seconds(3.0)
    assert abs(info["duration"] - expected) / expected < 0.02  # type: ignore[operator]
    assert info["pictures"] == result.frames["video"]


async def test_without_sender_reports_tracks_align_by_arrival(tmp_path: Path) -> None:
    publisher = SyntheticPublisher(video=None)
    recorder = Recorder(publisher, tmp_path, sync_wait=0.0)
    recorder.start()
    await publisher.play(seconds=1.0, sr_at=None)
    result = await recorder.stop()

    info = probe(result.path)
    assert info["codecs"] == (None, "opus")
    assert result.first_frame_sender_time is None
    assert result.frames["audio"] > 40
