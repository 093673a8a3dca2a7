"""The server's config files in protobuf text format, with TF Serving's error text.

tensorflow_model_server reads --model_config_file, --batching_parameters_file,
--monitoring_config_file and --ssl_config_file with protobuf's text parser, whose error reads
`Error parsing text-format tensorflow.serving.ModelServerConfig: 4:5: <what is wrong>`; scripts
and tests match on that. `parse_text_proto` gives the same text for every file, followed by the
file it was in.
"""

from __future__ import annotations

import re

from google.protobuf import message as protobuf_message
from google.protobuf import text_format

# Python's parser puts the position at the front of its own message ("4:5 : ...").
_PARSER_POSITION = re.compile(r"^\d+:\d+ : ")


class TextProtoError(ValueError):
    """A text that is not the message it should be; the message is TF Serving's error text."""


def parse_text_proto(text: str, message: protobuf_message.Message, *, source: str,
                     detail: str | None = None) -> protobuf_message.Message:
    """Parses `text` into `message` and returns it.

    `source` names where the text came from (a file path). `detail`, when given, replaces the
    parser's own explanation, which quotes the offending text (for files holding secrets).

    Raises:
        TextProtoError: `Error parsing text-format <full name>: <line>:<column>: <why> (in
            <source>)`.
    """
    try:
        text_format.Parse(text, message)
    except text_format.ParseError as error:
        position = f"{error.GetLine()}:{error.GetColumn()}: " if error.GetLine() else ""
        why = detail if detail is not None else _PARSER_POSITION.sub("", str(error))
        raise TextProtoError(f"Error parsing text-format {message.DESCRIPTOR.full_name}: "
                             f"{position}{why} (in {source})") from None
    return message
