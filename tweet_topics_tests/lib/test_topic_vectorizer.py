"""The vocabulary reaches the JVM in one call (``vectorize.count_vectorizer``) and counts exactly as pyspark's own
``CountVectorizerModel.from_vocabulary`` does, whatever the terms hold."""

from pyspark.ml.feature import CountVectorizerModel

from tweet_topics.lib.topics.vectorize import count_vectorizer

ODD_TERMS = ["rocket", "🚀launch", "naïve", 'a"b', "back\\slash", "u\u2028sep", "日本", "\\u0041", "[]{}", ""]


def test_one_call_model_counts_as_pysparks_own(spark):
    vocabulary = [*ODD_TERMS, *(f"term{i}" for i in range(500))]
    ours = count_vectorizer(vocabulary, spark.sparkContext)
    theirs = CountVectorizerModel.from_vocabulary(vocabulary, inputCol="terms", outputCol="counts")
    assert ours.vocabulary == theirs.vocabulary == vocabulary
    settings = [{p.name: (m.isSet(p), m.getOrDefault(p)) for p in m.params} for m in (ours, theirs)]
    assert settings[0] == settings[1] and settings[0]["vocabSize"] == (True, len(vocabulary))
    rows = [(["rocket", "🚀launch", "🚀launch", "missing"],), (['a"b', "\\u0041", "term499", ""],), ([],)]
    frame = spark.createDataFrame(rows, "terms array<string>")
    assert ours.transform(frame).collect() == theirs.transform(frame).collect()
    assert [r.counts.toArray()[1] for r in ours.transform(frame).collect()] == [2.0, 0.0, 0.0]
