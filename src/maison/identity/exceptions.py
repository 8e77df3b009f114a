from maison.core.errors import Conflict, NotFound


class UnknownClient(NotFound):
    code = "unknown_client"


class MergeNotUndoable(Conflict):
    code = "merge_not_undoable"
