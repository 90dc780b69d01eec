namespace LearnerVault.Privacy.Access;

/// <summary>Whether a consent record gives or withdraws consent.</summary>
public enum ConsentChoice
{
    Given,
    Withdrawn,
}

/// <summary>Who made a consent record: the learner themself, or one of their guardians.</summary>
public enum ConsentGiver
{
    Learner,
    Guardian,
}

/// <summary>
/// One consent event for one learner and one purpose. Records are never edited: a change is a new record, and the
/// latest record that counts wins (see <see cref="ConsentEvaluation"/>).
/// </summary>
/// <param name="Purpose">The purpose consented to or withdrawn from.</param>
/// <param name="Choice">Given or withdrawn.</param>
/// <param name="GivenBy">The learner or a guardian.</param>
/// <param name="GiverId">The learner's id (for <see cref="ConsentGiver.Learner"/>) or the guardian's person id.</param>
/// <param name="At">When it was given or withdrawn.</param>
/// <param name="Channel">Through which channel (e.g. <c>web</c>, <c>api</c>, <c>paper form</c>).</param>
/// <param name="NoticeVersion">The version of the privacy notice shown when it was given or withdrawn.</param>
public sealed record ConsentRecord(
    Purpose Purpose,
    ConsentChoice Choice,
    ConsentGiver GivenBy,
    string GiverId,
    DateTimeOffset At,
    string Channel,
    string NoticeVersion);
