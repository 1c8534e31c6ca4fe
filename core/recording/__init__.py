"""Recording: a stream's RTP remuxed to a file without transcoding.

VP8 and Opus go to WebM, H.264 (with Opus) to MP4. See ``docs/recording.md``.
"""

from core.recording.recorder import Recorder, RecordingError, RecordingResult, RecordingSource
from core.recording.writer import MKV, MP4, WEBM, ContainerFormat, choose_format

__all__ = [
    "MKV",
    "MP4",
    "WEBM",
    "ContainerFormat",
    "Recorder",
    "RecordingError",
    "RecordingResult",
    "RecordingSource",
    "choose_format",
]
