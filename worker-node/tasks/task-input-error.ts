/** A TASK payload the task cannot work with; its message becomes the job's `{error}` output. */
export class TaskInputError extends Error {
  override name = "TaskInputError";
}
